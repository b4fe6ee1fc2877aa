import { EnsembleError } from '@ensemble/core';
import { buildApp, closeGracefully, createLogger, listen } from '@ensemble/server';
import { type RunningWorker, startWorker } from '@ensemble/worker';
import { loadConfig } from '../config/load-config.ts';
import type { GlobalOptions } from '../main.ts';
import { openModelRuntimes } from '../model-runtime/open-model-runtimes.ts';
import { openRegistry } from '../registry/open-registry.ts';
import { onShutdownSignal } from '../runtime/on-shutdown-signal.ts';
import { openPlatform } from '../runtime/open-platform.ts';
import { serverModules } from '../runtime/server-modules.ts';
import { serverMetrics, workerParts } from '../runtime/worker-parts.ts';
import { version } from '../version.ts';

export interface StartOptions extends GlobalOptions {
  port?: string;
  host?: string;
  worker: boolean;
}

/** `ensemble start`: the API server, and the worker in the same process unless `--no-worker`. */
export async function startCommand(options: StartOptions): Promise<void> {
  const env = { ...process.env };
  if (options.port !== undefined) env.PORT = options.port;
  if (options.host !== undefined) env.HOST = options.host;
  if (!options.worker) env.ENSEMBLE_WORKER_IN_PROCESS = 'false';
  const config = loadConfig({ env, ...(options.config ? { configPath: options.config } : {}) });
  const logger = createLogger({ level: config.log.level });

  const platform = await openPlatform(config, logger, { migrate: true, bus: true });
  // The model registry: master key, repositories, and ensemble.yaml's models and credentials reconciled.
  const registry = await openRegistry({ config, database: platform.database, logger }).catch(async (error: unknown) => {
    await platform.close();
    throw error;
  });
  // Model runtimes: providers, the runtime manager, and the built-in local models registered.
  const runtimes = await openModelRuntimes({ config, database: platform.database, registry, logger }).catch(
    async (error: unknown) => {
      await platform.close();
      throw error;
    },
  );
  let worker: RunningWorker | undefined;
  const app = await buildApp({
    config,
    logger,
    checks: platform.checks,
    modules: serverModules(platform, registry, runtimes.manager, { artifacts: runtimes.artifacts, config }),
    scaleInProtection: platform.protection,
    metrics: serverMetrics(platform, logger),
    version,
  });
  try {
    const url = await listen(app, config.server).catch((error: unknown) => {
      throw listenError(error, config.server.host, config.server.port);
    });
    logger.info(
      { url, bus: platform.bus.kind, embeddedPostgres: platform.embeddedPostgres !== undefined },
      'ensemble listening',
    );
    if (config.worker.inProcess) worker = await startWorker(workerParts(platform, logger, config));
    // The API answers meanwhile: loading (and maybe fetching) the built-in models takes a while.
    runtimes.deployBuiltIns();
  } catch (error) {
    await app.close();
    await worker?.stop();
    await runtimes.close();
    await platform.close();
    throw error;
  }

  const timeoutMs = config.server.shutdownTimeoutMs;
  onShutdownSignal(
    async () => {
      // The server drains its requests while the worker drains its handlers; the pools go last.
      await Promise.all([closeGracefully(app, { timeoutMs }), worker?.stop()]);
      // Runtimes (model memory, worker threads, downloads) go before the platform they write status to.
      await runtimes.close();
      await platform.close();
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
