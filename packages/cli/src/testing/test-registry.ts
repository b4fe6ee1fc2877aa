import { randomBytes } from 'node:crypto';
import {
  CredentialCipher,
  createDatabase,
  type Database,
  PostgresCredentialRepository,
  PostgresModelRepository,
  runMigrations,
} from '@ensemble/adapters/postgres';
import { createTestDatabase } from '@ensemble/testkit';
import type { Registry } from '../registry/open-registry.ts';
import { openTestKeys, type TestKeys } from './test-keys.ts';

export interface TestRegistry extends Registry {
  database: Database;
  /** API keys on the same database, with an admin key ready (`keys.admin` are its headers). */
  keys: TestKeys;
  /** The lifecycle events written so far (the outbox, oldest first), optionally of one type. */
  events(type?: string): Promise<Array<{ type: string; key: string; data: Record<string, unknown> }>>;
  close(): Promise<void>;
}

/** A fresh migrated database with the registry's real repositories, for one test file. */
export async function openTestRegistry(prefix: string): Promise<TestRegistry> {
  const testDatabase = await createTestDatabase(prefix);
  const database = createDatabase({ url: testDatabase.url });
  await runMigrations(database);
  const keys = await openTestKeys(database);
  return {
    database,
    keys,
    models: new PostgresModelRepository(database.db),
    credentials: new PostgresCredentialRepository(database.db, new CredentialCipher({ current: randomBytes(32) })),
    async events(type) {
      const { rows } = await database.pool.query<{ key: string; value: unknown }>(
        "select key, value from outbox where topic = 'ensemble.models.lifecycle' order by id",
      );
      return rows
        .map((row) => {
          const envelope = (typeof row.value === 'string' ? JSON.parse(row.value) : row.value) as {
            type: string;
            data: Record<string, unknown>;
          };
          return { type: envelope.type, key: row.key, data: envelope.data };
        })
        .filter((event) => type === undefined || event.type === type);
    },
    async close() {
      await keys.store.close();
      await database.close();
      await testDatabase.drop();
    },
  };
}
