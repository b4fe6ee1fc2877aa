import { configSchema, type DependencyCheck, type EnsembleConfigInput } from '@ensemble/core';
import type { BuildAppOptions } from '../app.ts';
import { buildApp } from '../app.ts';
import type { EnsembleApp, EnsembleModule } from '../app-types.ts';
import { createLogger } from '../logger.ts';
import { LogCapture } from './log-capture.ts';
import { testModule } from './test-module.ts';

export interface TestAppOptions {
  config?: EnsembleConfigInput;
  checks?: readonly DependencyCheck[];
  modules?: readonly EnsembleModule[];
  readinessTimeoutMs?: number;
  /** Register the fake routes of `test-module.ts` (default true). */
  withTestModule?: boolean;
}

export interface TestApp {
  app: EnsembleApp;
  logs: LogCapture;
}

/** `buildApp` with a small body limit, debug logs captured in memory, and the test module mounted. */
export async function buildTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const config = configSchema.parse({ server: { bodyLimitBytes: 1024 }, log: { level: 'debug' }, ...options.config });
  const logs = new LogCapture();
  const modules = [...(options.withTestModule === false ? [] : [testModule]), ...(options.modules ?? [])];
  const buildOptions: BuildAppOptions = {
    config,
    logger: createLogger({ level: config.log.level, destination: logs }),
    checks: options.checks ?? [],
    modules,
    ...(options.readinessTimeoutMs === undefined ? {} : { readinessTimeoutMs: options.readinessTimeoutMs }),
  };
  return { app: await buildApp(buildOptions), logs };
}
