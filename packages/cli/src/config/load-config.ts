import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type EnsembleConfig, EnsembleError, parseConfig } from '@ensemble/core';
import { parseDocument } from 'yaml';

export interface LoadConfigOptions {
  env: Readonly<Record<string, string | undefined>>;
  /** An explicit `--config` path; it must exist. */
  configPath?: string;
  cwd?: string;
}

/**
 * Reads `ensemble.yaml` (from `--config`, `ENSEMBLE_CONFIG`, or the working directory when present)
 * and the environment, and validates them together. Only composition roots call this.
 */
export function loadConfig({ env, configPath, cwd = process.cwd() }: LoadConfigOptions): EnsembleConfig {
  const explicit = configPath ?? env.ENSEMBLE_CONFIG;
  const path = resolve(cwd, explicit ?? 'ensemble.yaml');
  if (!existsSync(path)) {
    if (explicit !== undefined) {
      throw new EnsembleError(
        'config_invalid',
        `Configuration file ${path} does not exist (from ${configPath ? '--config' : 'ENSEMBLE_CONFIG'}).`,
        {
          field: configPath ? '--config' : 'ENSEMBLE_CONFIG',
        },
      );
    }
    return parseConfig({ env });
  }
  return parseConfig({ env, file: { path, content: readYaml(path) } });
}

function readYaml(path: string): unknown {
  const document = parseDocument(readFileSync(path, 'utf8'), { prettyErrors: true, uniqueKeys: true });
  const [first] = document.errors;
  if (first !== undefined) {
    const line = first.linePos?.[0];
    const where = line ? `${path}:${line.line}:${line.col}` : path;
    throw new EnsembleError('config_invalid', `Configuration file ${where} is not valid YAML: ${first.code}`, {
      field: path,
    });
  }
  return document.toJS() ?? {};
}
