import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';

export interface CloseGracefullyOptions {
  /** How long in-flight requests may take to finish once the server stops accepting. */
  timeoutMs: number;
  /**
   * How long to keep serving while `/readyz` already answers 503, so a load balancer notices and
   * stops routing here before connections are refused. 0 (the default) closes at once.
   */
  drainDelayMs?: number;
}

export interface CloseOutcome {
  /** True when requests were still running at the deadline and their connections were cut. */
  timedOut: boolean;
}

/**
 * Drains (readiness fails), stops accepting, lets in-flight requests finish for up to `timeoutMs`,
 * then cuts what is left and resolves once every onClose hook has run.
 */
export async function closeGracefully(app: FastifyInstance, options: CloseGracefullyOptions): Promise<CloseOutcome> {
  app.lifecycle.beginShutdown();
  if (options.drainDelayMs !== undefined && options.drainDelayMs > 0) await sleep(options.drainDelayMs);

  const closing = app.close();
  const deadline = new AbortController();
  const timedOut = await Promise.race([
    closing.then(() => false),
    sleep(options.timeoutMs, true, { signal: deadline.signal }).catch(() => false),
  ]);
  deadline.abort();
  if (timedOut) {
    app.log.warn(
      { timeoutMs: options.timeoutMs },
      'requests still running at the shutdown deadline; closing their connections',
    );
    app.server.closeAllConnections();
  }
  await closing;
  return { timedOut };
}
