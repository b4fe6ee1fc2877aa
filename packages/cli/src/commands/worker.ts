import { createLogger } from '@ensemble/server';
import { startWorker } from '@ensemble/worker';
import { loadConfig } from '../config/load-config.ts';
import type { GlobalOptions } from '../main.ts';
import { onShutdownSignal } from '../runtime/on-shutdown-signal.ts';
import { openPlatform } from '../runtime/open-platform.ts';
import { workerParts } from '../runtime/worker-parts.ts';

/** `ensemble worker`: consumers only. Migrations are the server's (or `ensemble migrate`'s) job. */
export async function workerCommand(options: GlobalOptions): Promise<void> {
  const config = loadConfig({ env: process.env, ...(options.config ? { configPath: options.config } : {}) });
  const logger = createLogger({ level: config.log.level, base: { service: 'ensemble-worker' } });
  // A worker next to a fresh embedded database still needs the tables, so it migrates too (idempotent, locked).
  const platform = await openPlatform(config, logger, { migrate: true, bus: true });
  const worker = await startWorker(workerParts(platform, logger, config)).catch(async (error: unknown) => {
    await platform.close();
    throw error;
  });
  logger.info({ bus: platform.bus.kind }, 'ensemble worker running');
  const timeoutMs = config.server.shutdownTimeoutMs;
  onShutdownSignal(
    async () => {
      await worker.stop();
      await platform.close();
    },
    { timeoutMs, logger },
  );
}
