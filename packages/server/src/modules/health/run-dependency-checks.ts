import { performance } from 'node:perf_hooks';
import { type DependencyCheck, EnsembleError, type Logger } from '@ensemble/core';

export type CheckStatus = 'up' | 'down' | 'timeout';

export interface CheckResult {
  status: CheckStatus;
  latencyMs: number;
  /** Why the dependency is not usable; absent when it is up. */
  error?: string;
}

export interface DependencyReport {
  ready: boolean;
  checks: Record<string, CheckResult>;
}

export interface RunChecksOptions {
  /** Each check gets this long; a check that ignores its signal is still reported at the deadline. */
  timeoutMs: number;
  logger: Pick<Logger, 'warn'>;
}

/** Runs every check at once, each against its own deadline, so one hung dependency cannot hang the probe. */
export async function runDependencyChecks(
  checks: readonly DependencyCheck[],
  options: RunChecksOptions,
): Promise<DependencyReport> {
  const results = await Promise.all(checks.map((check) => runOne(check, options)));
  const entries = checks.map((check, index) => [check.name, results[index] as CheckResult] as const);
  return { ready: results.every((result) => result.status === 'up'), checks: Object.fromEntries(entries) };
}

async function runOne(check: DependencyCheck, options: RunChecksOptions): Promise<CheckResult> {
  const controller = new AbortController();
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), options.timeoutMs);
  });
  try {
    // `then` also turns a synchronous throw inside `check` into a rejection.
    const outcome = await Promise.race([Promise.resolve().then(() => check.check(controller.signal)), deadline]);
    if (outcome === 'timeout') {
      controller.abort(new EnsembleError('timeout', `${check.name} check exceeded ${options.timeoutMs} ms`));
      options.logger.warn({ check: check.name, timeoutMs: options.timeoutMs }, 'dependency check timed out');
      return { status: 'timeout', latencyMs: elapsed(), error: `no answer within ${options.timeoutMs} ms` };
    }
    return { status: 'up', latencyMs: elapsed() };
  } catch (error) {
    options.logger.warn({ check: check.name, err: error }, 'dependency check failed');
    return { status: 'down', latencyMs: elapsed(), error: reasonOf(error) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * EnsembleErrors are written for people; other errors may quote connection strings, so only their
 * code (`ECONNREFUSED`) goes out and the rest stays in the log.
 */
function reasonOf(error: unknown): string {
  if (EnsembleError.isInstance(error)) return error.message;
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(code) ? `check failed (${code})` : 'check failed';
}
