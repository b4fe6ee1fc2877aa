import { type Database, PostgresRouteLookup, PostgresRouteRepository } from '@ensemble/adapters/postgres';
import type { EnsembleConfig, Logger, RouteRepository } from '@ensemble/core';
import { withRegistryLock } from '../registry/with-registry-lock.ts';
import { type RouteReconcileReport, reconcileRoutes } from './reconcile-routes.ts';

export interface Routes {
  /** Storage, for `/api/routes`. */
  readonly repository: RouteRepository;
  /** The gateway's cached lookup (`openAiGatewayModule({ routes })`). */
  readonly lookup: PostgresRouteLookup;
  readonly report: RouteReconcileReport;
  /** Stops listening for route changes. */
  close(): Promise<void>;
}

export interface OpenRoutesOptions {
  config: EnsembleConfig;
  database: Database;
  logger: Logger;
}

/**
 * Route storage, `ensemble.yaml`'s routes reconciled (under the registry lock, after the models they
 * target are registered), and the gateway's lookup listening for changes made by other instances.
 */
export async function openRoutes(options: OpenRoutesOptions): Promise<Routes> {
  const { config, database, logger } = options;
  const repository = new PostgresRouteRepository(database.db);
  const report = await withRegistryLock(database, () =>
    reconcileRoutes({ routes: repository, declared: config.routes, logger }),
  );
  const lookup = new PostgresRouteLookup({ database, routes: repository, logger });
  await lookup.start();
  return { repository, lookup, report, close: () => lookup.close() };
}
