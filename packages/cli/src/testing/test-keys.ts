import { type Database, PostgresApiKeyStore } from '@ensemble/adapters/postgres';
import { newApiKeySchema } from '@ensemble/core';

export interface TestKeys {
  /** The real key store, to pass to `buildApp({ authenticator })` and to make more keys. */
  store: PostgresApiKeyStore;
  /** `{ authorization: 'Bearer <an admin key of the default project>' }`. */
  admin: { authorization: string };
  adminKey: string;
  adminKeyId: string;
}

/** The PostgreSQL key store on a test database, with one admin key of the default project. */
export async function openTestKeys(database: Database): Promise<TestKeys> {
  const store = new PostgresApiKeyStore(database.db);
  const { key, secret } = await store.create('default', newApiKeySchema.parse({ name: 'test admin', admin: true }));
  return { store, admin: { authorization: `Bearer ${secret}` }, adminKey: secret, adminKeyId: key.id };
}
