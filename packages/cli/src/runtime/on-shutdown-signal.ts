import type { Logger } from '@ensemble/core';

/**
 * Runs `shutdown` once on SIGTERM or SIGINT, bounded by `timeoutMs`; a second signal, or a drain
 * that overruns, exits at once so an orchestrator never waits on a stuck process.
 */
export function onShutdownSignal(
  shutdown: () => Promise<void>,
  { timeoutMs, logger }: { timeoutMs: number; logger: Logger },
): void {
  let shuttingDown = false;
  const handle = (signal: NodeJS.Signals) => {
    if (shuttingDown) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(130);
    }
    shuttingDown = true;
    logger.info({ signal, timeoutMs }, 'shutting down: draining requests and consumers');
    const overrun = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown overran its timeout: exiting');
      process.exit(1);
    }, timeoutMs + 2_000);
    overrun.unref();
    shutdown().then(
      () => {
        logger.info({}, 'shutdown complete');
        process.exitCode ??= 0;
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exitCode = 1;
      },
    );
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);
}
