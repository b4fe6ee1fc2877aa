import { PostgresRouteRepository } from '@ensemble/adapters/postgres';
import { BufferedUsageRecorder, createLogger } from '@ensemble/server';
import { startWorker } from '@ensemble/worker';
import { openCollections } from '../collections/open-collections.ts';
import { loadConfig } from '../config/load-config.ts';
import type { GlobalOptions } from '../main.ts';
import { openModelRuntimes } from '../model-runtime/open-model-runtimes.ts';
import { openPipelines } from '../pipelines/open-pipelines.ts';
import { openRegistry } from '../registry/open-registry.ts';
import { openPlatform } from '../runtime/open-platform.ts';
import { outboundGuardFor } from '../runtime/outbound-guard-for.ts';
import { runUntilSignal } from '../runtime/run-until-signal.ts';
import { workerParts } from '../runtime/worker-parts.ts';

/** `ensemble worker`: consumers only. Migrations are the server's (or `ensemble migrate`'s) job. */
export async function workerCommand(options: GlobalOptions): Promise<void> {
  const config = loadConfig({ env: process.env, ...(options.config ? { configPath: options.config } : {}) });
  const logger = createLogger({ level: config.log.level, base: { service: 'ensemble-worker' } });
  await runUntilSignal(
    async ({ onClose, checkpoint }) => {
      // A worker next to a fresh embedded database still needs the tables, so it migrates too (idempotent, locked).
      const platform = await openPlatform(config, logger, { migrate: true, bus: true });
      onClose(() => platform.close());
      // The SSRF guard every outbound call goes through; its pools close after the worker has stopped.
      onClose(() => outboundGuardFor(config).close());
      checkpoint();
      // Job items call models: the worker needs the registry and the runtimes too (local models load on first use).
      const registry = await openRegistry({ config, database: platform.database, logger });
      checkpoint();
      const runtimes = await openModelRuntimes({ config, database: platform.database, registry, logger });
      onClose(() => runtimes.close());
      checkpoint();
      // Collections, read-only: `retrieve` steps search Pinecone directly and the embedded indexes through
      // graphs of this process's own that follow the API process's writes (caught up before each query).
      const collections = openCollections({
        config,
        database: platform.database,
        runtimes: runtimes.manager,
        logger,
        follow: true,
      });
      onClose(() => collections.close());
      // pipeline-run items run here: the stored pipelines (the server reconciles ensemble.yaml's), their runs
      // leased and resumed like the server's.
      const usage = config.usage.ledger ? new BufferedUsageRecorder({ bus: platform.bus, logger }) : undefined;
      onClose(async () => usage?.close(5_000));
      const pipelines = await openPipelines({
        config,
        database: platform.database,
        logger,
        runtimes: runtimes.manager,
        models: registry.models,
        usage,
        // Model steps naming routes: read uncached here (a nested-route expansion is kept 2 s per route).
        routes: new PostgresRouteRepository(platform.database.db),
        collections: collections.service,
        reconcile: false,
      });
      onClose(() => pipelines.close());
      checkpoint();
      const worker = await startWorker(
        workerParts(platform, logger, config, runtimes.manager, registry.masterKey, pipelines.service),
      );
      onClose(() => worker.stop());
      logger.info({ bus: platform.bus.kind }, 'ensemble worker running');
    },
    { timeoutMs: config.server.shutdownTimeoutMs, logger },
  );
}
