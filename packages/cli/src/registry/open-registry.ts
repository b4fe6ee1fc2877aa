import {
  advisoryLockKey,
  CredentialCipher,
  type Database,
  PostgresCredentialRepository,
  PostgresModelRepository,
  withDatabaseErrors,
} from '@ensemble/adapters/postgres';
import type { CredentialRepository, EnsembleConfig, Logger, ModelRepository } from '@ensemble/core';
import { loadMasterKeys } from './master-key.ts';
import { type ReconcileReport, reconcileDeclared } from './reconcile-declared.ts';

/** The model registry's repositories, as the server modules and runtimes use them. */
export interface Registry {
  readonly models: ModelRepository;
  readonly credentials: CredentialRepository;
}

export interface OpenRegistryOptions {
  config: EnsembleConfig;
  database: Database;
  logger: Logger;
  env?: Readonly<Record<string, string | undefined>>;
  production?: boolean;
}

/**
 * Loads the master key, builds the registry's repositories and reconciles the models and credentials
 * that `ensemble.yaml` declares. Runs after the migrations.
 */
export async function openRegistry(
  options: OpenRegistryOptions,
): Promise<Registry & { report: ReconcileReport; masterKey: Buffer }> {
  const { config, database, logger } = options;
  const keys = await loadMasterKeys({
    config,
    logger,
    ...(options.production === undefined ? {} : { production: options.production }),
  });
  const registry: Registry = {
    models: new PostgresModelRepository(database.db),
    credentials: new PostgresCredentialRepository(database.db, new CredentialCipher(keys)),
  };
  const report = await oneAtATime(database, () =>
    reconcileDeclared({
      models: registry.models,
      credentials: registry.credentials,
      declaredModels: config.models,
      declaredCredentials: config.credentials,
      env: options.env ?? process.env,
      logger,
    }),
  );
  // The master key also derives each project's webhook signing secret (jobs).
  return { ...registry, report, masterKey: keys.current };
}

/** Instances starting together reconcile one after another, so none creates a duplicate version. */
async function oneAtATime<T>(database: Database, run: () => Promise<T>): Promise<T> {
  const client = database.dedicatedClient({ statementTimeoutMs: 0, applicationName: 'ensemble-reconcile' });
  client.on('error', () => {});
  await withDatabaseErrors(() => client.connect());
  try {
    await withDatabaseErrors(() =>
      client.query('select pg_advisory_lock($1::bigint)', [advisoryLockKey('ensemble', 'reconcile-declared')]),
    );
    return await run();
  } finally {
    // Ending the session releases the lock.
    await client.end().catch(() => undefined);
  }
}
