import type { Logger } from '@ensemble/core';

/** What a command's start-up sees: where to register closers, and whether a signal asked it to stop. */
export interface Lifecycle {
  /** Registers something to close on shutdown; closers run in reverse order of registration. */
  onClose(close: () => Promise<void> | void): void;
  /** Throws `StartupInterrupted` when a signal arrived, so start-up stops opening things. */
  checkpoint(): void;
  readonly signal: AbortSignal;
}

/** Thrown at a checkpoint after SIGTERM/SIGINT: not a failure, the process exits 0 once closed. */
export class StartupInterrupted extends Error {
  constructor() {
    super('start-up interrupted by a shutdown signal');
    this.name = 'StartupInterrupted';
  }
}

/**
 * Runs `start`, then waits for SIGTERM or SIGINT and closes what it opened, bounded by `timeoutMs`.
 * The handlers go in before start-up, so a signal during a slow start (a far Kafka, a big
 * migration) still ends in an orderly close and exit 0 instead of the default kill. A second
 * signal, or a close that overruns, exits at once so an orchestrator never waits on a stuck process.
 * A failed start-up closes what was opened and rethrows.
 */
export async function runUntilSignal(
  start: (lifecycle: Lifecycle) => Promise<void>,
  { timeoutMs, logger }: { timeoutMs: number; logger: Logger },
): Promise<void> {
  const closers: Array<() => Promise<void> | void> = [];
  const stop = new AbortController();
  let starting = true;
  let closing: Promise<void> | undefined;

  const closeAll = () => {
    closing ??= (async () => {
      for (const close of closers.splice(0).reverse()) {
        try {
          await close();
        } catch (error) {
          logger.error({ err: error }, 'a component failed to close');
          process.exitCode = 1;
        }
      }
    })();
    return closing;
  };

  const handle = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(130);
    }
    stop.abort();
    logger.info({ signal, timeoutMs, starting }, 'shutting down: draining requests and consumers');
    const overrun = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown overran its timeout: exiting');
      process.exit(1);
    }, timeoutMs + 2_000);
    overrun.unref();
    // During start-up the next checkpoint throws and the catch below closes; after it, close now.
    if (!starting) void closeAll().then(() => logger.info({}, 'shutdown complete'));
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);

  const lifecycle: Lifecycle = {
    onClose: (close) => {
      closers.push(close);
    },
    checkpoint: () => {
      if (stop.signal.aborted) throw new StartupInterrupted();
    },
    signal: stop.signal,
  };
  try {
    await start(lifecycle);
    lifecycle.checkpoint();
  } catch (error) {
    await closeAll();
    if (error instanceof StartupInterrupted || stop.signal.aborted) {
      logger.info({}, 'shutdown complete (during start-up)');
      return;
    }
    process.off('SIGTERM', handle);
    process.off('SIGINT', handle);
    throw error;
  } finally {
    starting = false;
  }
}
