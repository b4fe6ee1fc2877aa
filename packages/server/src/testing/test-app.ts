import { configSchema, type DependencyCheck, type EnsembleConfigInput } from '@ensemble/core';
import type { BuildAppOptions } from '../app.ts';
import { buildApp } from '../app.ts';
import type { EnsembleApp, EnsembleModule } from '../app-types.ts';
import { createLogger } from '../logger.ts';
import { InMemoryApiKeys } from './in-memory-api-keys.ts';
import { LogCapture } from './log-capture.ts';
import { testModule } from './test-module.ts';

export interface TestAppOptions {
  config?: EnsembleConfigInput;
  checks?: readonly DependencyCheck[];
  modules?: readonly EnsembleModule[];
  readinessTimeoutMs?: number;
  /** Register the fake routes of `test-module.ts` (default true). */
  withTestModule?: boolean;
  /** The keys the app authenticates against; a fresh store with one admin key by default. */
  keys?: InMemoryApiKeys;
}

export interface TestApp {
  app: EnsembleApp;
  logs: LogCapture;
  keys: InMemoryApiKeys;
  /** `Authorization: Bearer <an admin key of the default project>`, to spread into `inject({ headers })`. */
  admin: { authorization: string };
}

/**
 * `buildApp` with a small body limit, debug logs captured in memory, the test module mounted, and
 * API keys in memory (one admin key ready in `admin`).
 */
export async function buildTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const config = configSchema.parse({ server: { bodyLimitBytes: 1024 }, log: { level: 'debug' }, ...options.config });
  const logs = new LogCapture();
  const keys = options.keys ?? new InMemoryApiKeys();
  const { secret } = await keys.add('default', { name: 'test admin', admin: true });
  const modules = [...(options.withTestModule === false ? [] : [testModule]), ...(options.modules ?? [])];
  const buildOptions: BuildAppOptions = {
    config,
    logger: createLogger({ level: config.log.level, destination: logs }),
    authenticator: keys,
    checks: options.checks ?? [],
    modules,
    ...(options.readinessTimeoutMs === undefined ? {} : { readinessTimeoutMs: options.readinessTimeoutMs }),
  };
  return { app: await buildApp(buildOptions), logs, keys, admin: { authorization: `Bearer ${secret}` } };
}
