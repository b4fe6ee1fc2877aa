import type { z } from 'zod';
import { EnsembleError } from '../errors/ensemble-error.ts';
import { configSchema, type EnsembleConfig, environmentVariables } from './config-schema.ts';

export interface ConfigSources {
  env: Readonly<Record<string, string | undefined>>;
  /** The parsed content of `ensemble.yaml`, when there is one. */
  file?: { path: string; content: unknown };
}

export interface ConfigProblem {
  /** `PORT` for a variable, `ensemble.yaml: server.port` for the file. */
  setting: string;
  message: string;
  fix?: string;
}

/**
 * Merges the file and the environment (the environment wins) and validates the result. Every
 * problem is reported at once, each naming the setting where the user wrote the value.
 */
export function parseConfig(sources: ConfigSources): EnsembleConfig {
  const fromFile = sources.file?.content ?? {};
  if (typeof fromFile !== 'object' || fromFile === null || Array.isArray(fromFile)) {
    throw configError([{ setting: sources.file?.path ?? 'ensemble.yaml', message: 'must be a mapping of settings' }]);
  }
  const merged = structuredClone(fromFile) as Record<string, unknown>;
  const origin = new Map<string, string>();
  for (const [name, { path }] of Object.entries(environmentVariables)) {
    const value = sources.env[name];
    if (value === undefined || value === '') continue;
    setPath(merged, path, value);
    origin.set(path, name);
  }

  const result = configSchema.safeParse(merged);
  if (result.success) return result.data;
  throw configError(result.error.issues.map((issue) => describeIssue(issue, origin, sources.file?.path)));
}

function describeIssue(issue: z.core.$ZodIssue, origin: Map<string, string>, file?: string): ConfigProblem {
  // `models[2].provider`: list elements by index, as a person reads the file.
  const path = issue.path
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i > 0 ? '.' : ''}${String(key)}`))
    .join('');
  // `kafka.brokers[0]` was written as KAFKA_BROKERS: name the setting, not the list element.
  const settingPath = [...origin.keys(), ...Object.values(environmentVariables).map((v) => v.path)].find(
    (p) => path === p || path.startsWith(`${p}.`) || path.startsWith(`${p}[`),
  );
  const variable = settingPath === undefined ? undefined : origin.get(settingPath);
  const known = Object.entries(environmentVariables).find(([, v]) => v.path === settingPath);
  const fix = known?.[1].fix;
  const setting = variable ?? `${file ?? 'ensemble.yaml'}: ${path || '(root)'}`;
  const message = issue.code === 'unrecognized_keys' ? `unknown setting(s) ${issue.keys.join(', ')}` : issue.message;
  return { setting, message, ...(fix === undefined ? {} : { fix }) };
}

function configError(problems: ConfigProblem[]): EnsembleError {
  const lines = problems.map((p) => `  - ${p.setting}: ${p.message}${p.fix ? ` (fix: set it to ${p.fix})` : ''}`);
  return new EnsembleError('config_invalid', `Invalid configuration:\n${lines.join('\n')}`, {
    details: { problems },
  });
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1] as string] = value;
}
