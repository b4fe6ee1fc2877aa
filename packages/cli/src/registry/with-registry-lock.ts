import { advisoryLockKey, type Database, withDatabaseErrors } from '@ensemble/adapters/postgres';

/**
 * Runs `work` holding the lock the ensemble.yaml reconciliation takes, so instances starting together
 * change the registry one after another (none registers a model twice or versions it twice).
 */
export async function withRegistryLock<T>(database: Database, work: () => Promise<T>): Promise<T> {
  const client = database.dedicatedClient({ statementTimeoutMs: 0, applicationName: 'ensemble-registry-start' });
  client.on('error', () => {});
  await withDatabaseErrors(() => client.connect());
  try {
    await withDatabaseErrors(() =>
      client.query('select pg_advisory_lock($1::bigint)', [advisoryLockKey('ensemble', 'reconcile-declared')]),
    );
    return await work();
  } finally {
    // Ending the session releases the lock.
    await client.end().catch(() => undefined);
  }
}
