import { ThreadedDocumentChunker } from '@ensemble/adapters/documents';
import { PostgresAuditLog, PostgresJobWorkStore } from '@ensemble/adapters/postgres';
import { HmacWebhookSigner } from '@ensemble/adapters/webhooks';
import { defaultJobTopics, EnsembleError } from '@ensemble/core';
import {
  BufferedUsageRecorder,
  buildApp,
  closeGracefully,
  consoleModule,
  createLogger,
  listen,
} from '@ensemble/server';
import { documentConsumer, type RunningWorker, startWorker } from '@ensemble/worker';
import { openAccounts } from '../auth/open-accounts.ts';
import { openApiKeys } from '../auth/open-api-keys.ts';
import { openCollections } from '../collections/open-collections.ts';
import { loadConfig } from '../config/load-config.ts';
import type { GlobalOptions } from '../main.ts';
import { openModelRuntimes } from '../model-runtime/open-model-runtimes.ts';
import { openPipelines } from '../pipelines/open-pipelines.ts';
import { checkDeclaredUrls } from '../registry/check-declared-urls.ts';
import { openRegistry } from '../registry/open-registry.ts';
import { openRoutes } from '../routes/open-routes.ts';
import { prepareConsole } from '../runtime/console-build.ts';
import { openLimits } from '../runtime/open-limits.ts';
import { openPlatform } from '../runtime/open-platform.ts';
import { outboundGuardFor } from '../runtime/outbound-guard-for.ts';
import { runUntilSignal } from '../runtime/run-until-signal.ts';
import { serverModules } from '../runtime/server-modules.ts';
import { serverMetrics, workerParts } from '../runtime/worker-parts.ts';
import { version } from '../version.ts';

export interface StartOptions extends GlobalOptions {
  port?: string;
  host?: string;
  worker: boolean;
  examples?: boolean;
}

/** `ensemble start`: the API server, and the worker in the same process unless `--no-worker`. */
export async function startCommand(options: StartOptions): Promise<void> {
  const env = { ...process.env };
  if (options.port !== undefined) env.PORT = options.port;
  if (options.host !== undefined) env.HOST = options.host;
  if (!options.worker) env.ENSEMBLE_WORKER_IN_PROCESS = 'false';
  if (options.examples === true) env.ENSEMBLE_EXAMPLES = 'true';
  const config = loadConfig({ env, ...(options.config ? { configPath: options.config } : {}) });
  const logger = createLogger({ level: config.log.level });

  const timeoutMs = config.server.shutdownTimeoutMs;
  await runUntilSignal(
    async ({ onClose, checkpoint }) => {
      const platform = await openPlatform(config, logger, { migrate: true, bus: true });
      onClose(() => platform.close());
      checkpoint();
      // Usage events leave the gateway through this buffer; it is flushed after the server has drained
      // (closers run in reverse), before the bus closes.
      const usage = new BufferedUsageRecorder({ bus: platform.bus, logger });
      onClose(() => usage.close(Math.min(5_000, timeoutMs / 2)));
      // The SSRF guard: user-supplied URLs reach only public hosts unless OUTBOUND_ALLOWED_NETWORKS says;
      // ensemble.yaml's model URLs pass the same rule before they are reconciled.
      const outbound = outboundGuardFor(config);
      // Closed after everything opened below (closers run in reverse): nothing calls out by then.
      onClose(() => outbound.close());
      await checkDeclaredUrls(config, outbound, logger);
      // The model registry: master key, repositories, and ensemble.yaml's models and credentials reconciled.
      const registry = await openRegistry({ config, database: platform.database, logger });
      checkpoint();
      // API keys: every /v1 and /api request is checked against them; the bootstrap admin key is made here.
      const keys = await openApiKeys({ config, database: platform.database, logger });
      onClose(() => keys.close());
      checkpoint();
      // Console users and sessions (cookie); the first user from ENSEMBLE_ADMIN_EMAIL when set.
      const accounts = await openAccounts({ config, database: platform.database, logger });
      checkpoint();
      // Model runtimes: providers, the runtime manager, and the built-in local models registered.
      // They close before the platform they write status to.
      const runtimes = await openModelRuntimes({ config, database: platform.database, registry, logger });
      onClose(() => runtimes.close());
      checkpoint();
      // Routes: ensemble.yaml's reconciled once the models they target exist; the gateway's cached lookup.
      const routes = await openRoutes({ config, database: platform.database, logger });
      onClose(() => routes.close());
      checkpoint();
      // Collections: the embedded vector index (snapshotted at close, before the database closes).
      const collections = openCollections({ config, database: platform.database, runtimes: runtimes.manager, logger });
      onClose(() => collections.close());
      // Pipelines: ensemble.yaml's (and the examples) reconciled; interrupted runs resumed in the background.
      const pipelines = await openPipelines({
        config,
        database: platform.database,
        logger,
        runtimes: runtimes.manager,
        models: registry.models,
        usage: config.usage.ledger ? usage : undefined,
        collections: collections.service,
        routes: routes.lookup,
      });
      onClose(() => pipelines.close());
      checkpoint();
      // The web console at `/` (built here on a first start that `npm ci` did not prepare).
      const consoleRoot = await prepareConsole(logger);
      checkpoint();
      // Rate limits and budgets: token buckets shared through PostgreSQL, spend from the usage ledger.
      // Budget webhooks go through the same guard (open-limits' default delivery).
      const limits = openLimits({
        config,
        database: platform.database,
        bus: platform.bus,
        signer: new HmacWebhookSigner(registry.masterKey),
        logger,
      });
      const app = await buildApp({
        config,
        logger,
        authenticator: keys,
        sessions: accounts.sessions,
        failureCounter: accounts.failures,
        limits: limits.enforcer,
        audit: new PostgresAuditLog(platform.database.db),
        outbound,
        checks: platform.checks,
        modules: [
          ...accounts.modules,
          ...serverModules(
            platform,
            registry,
            runtimes.manager,
            { artifacts: runtimes.artifacts, config },
            keys,
            limits.tap(usage),
            routes,
            limits,
            collections.service,
            pipelines,
            outbound,
            collections.embedded,
          ),
          consoleModule({ root: consoleRoot }),
        ],
        scaleInProtection: platform.protection,
        metrics: serverMetrics(platform, logger, usage),
        version,
      });
      let worker: RunningWorker | undefined;
      // The server drains its requests while the worker drains its handlers.
      onClose(() => Promise.all([closeGracefully(app, { timeoutMs }), worker?.stop()]).then(() => undefined));
      const url = await listen(app, config.server).catch((error: unknown) => {
        throw listenError(error, config.server.host, config.server.port);
      });
      logger.info(
        { url, bus: platform.bus.kind, embeddedPostgres: platform.embeddedPostgres !== undefined },
        'ensemble listening',
      );
      checkpoint();
      // Ingestion jobs run here, beside the collections (one process writes the embedded index), even
      // when the in-process worker is off and `ensemble worker`s plan them.
      const documents = documentConsumer({
        store: new PostgresJobWorkStore(platform.database.db, defaultJobTopics),
        collections: collections.service,
        chunker: new ThreadedDocumentChunker({ timeoutMs: config.ingest.jobTimeoutMs }),
        artifacts: runtimes.artifacts,
        logger,
        partitions: config.kafka.topicPartitions,
      });
      if (config.worker.inProcess) {
        const parts = workerParts(platform, logger, config, runtimes.manager, registry.masterKey, pipelines.service);
        worker = await startWorker({ ...parts, consumers: [...(parts.consumers ?? []), documents] });
      } else {
        worker = await startWorker({
          bus: platform.bus,
          logger,
          consumers: [documents],
          protection: platform.protection,
        });
      }
      // The API answers meanwhile: loading (and maybe fetching) the built-in models takes a while.
      runtimes.deployBuiltIns();
    },
    { timeoutMs, logger },
  );
}

function listenError(error: unknown, host: string, port: number): unknown {
  const code = (error as { code?: string }).code;
  if (code === 'EADDRINUSE') {
    return new EnsembleError(
      'config_invalid',
      `PORT ${port} on ${host} is already in use. Fix: stop what uses it, or set PORT to a free port.`,
      {
        field: 'PORT',
        cause: error,
      },
    );
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EACCES') {
    return new EnsembleError(
      'config_invalid',
      `Cannot listen on ${host}:${port} (${code}). Fix: set HOST to an address of this machine, e.g. 127.0.0.1 or 0.0.0.0, and PORT to a port you may use.`,
      {
        field: 'HOST',
        cause: error,
      },
    );
  }
  return error;
}
