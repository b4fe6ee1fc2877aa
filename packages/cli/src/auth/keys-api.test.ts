// /api/keys against PostgreSQL with two instances sharing the database, each with its own key cache:
// what one revokes stops at once there, and on the other when its cache entry ages out.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createDatabase, type Database, PostgresApiKeyStore, runMigrations } from '@ensemble/adapters/postgres';
import { configSchema } from '@ensemble/core';
import { buildApp, createLogger, type EnsembleApp, keysModule } from '@ensemble/server';
import { createTestDatabase, type TestDatabase, waitFor } from '@ensemble/testkit';
import { openTestKeys, type TestKeys } from '../testing/test-keys.ts';

const cacheTtlMs = 2_000;

describe('/api/keys across two instances', { timeout: 120_000 }, () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let keys: TestKeys;
  const stores: PostgresApiKeyStore[] = [];
  const apps: EnsembleApp[] = [];

  const instance = async () => {
    const store = new PostgresApiKeyStore(database.db, { cacheTtlMs });
    stores.push(store);
    const app = await buildApp({
      config: configSchema.parse({ log: { level: 'silent' } }),
      logger: createLogger({ level: 'silent' }),
      authenticator: store,
      checks: [],
      modules: [keysModule(store)],
    });
    apps.push(app);
    return { app, store };
  };
  const call = async (
    app: EnsembleApp,
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    headers: object,
    payload?: object,
  ) => {
    const response = await app.inject({
      method,
      url,
      headers: headers as Record<string, string>,
      ...(payload ? { payload } : {}),
    });
    return { status: response.statusCode, body: response.json() };
  };

  before(async () => {
    testDatabase = await createTestDatabase('keys_api');
    database = createDatabase({ url: testDatabase.url });
    await runMigrations(database);
    keys = await openTestKeys(database);
  });
  after(async () => {
    for (const app of apps) await app.close();
    for (const store of stores) await store.close();
    await keys?.store.close();
    await database?.close();
    await testDatabase?.drop();
  });

  it('a key revoked on one instance stops there at once and on the other within the cache TTL', async () => {
    const a = await instance();
    const b = await instance();
    const created = await call(a.app, 'POST', '/api/keys', keys.admin, {
      name: 'shared',
      tags: ['tier:gold'],
      role: 'admin',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const key = { authorization: `Bearer ${created.body.secret}` };
    assert.equal((await call(a.app, 'GET', '/api/keys', key)).status, 200);
    assert.equal((await call(b.app, 'GET', '/api/keys', key)).status, 200);

    const revoked = await call(a.app, 'DELETE', `/api/keys/${created.body.id}`, keys.admin);
    assert.equal(revoked.status, 200);
    const here = await call(a.app, 'GET', '/api/keys', key);
    assert.equal(here.status, 401);
    assert.equal(here.body.error.details.reason, 'revoked');
    assert.equal((await call(b.app, 'GET', '/api/keys', key)).status, 200, 'the other instance still trusts its cache');

    const started = Date.now();
    await waitFor('the other instance to refuse the revoked key', async () =>
      (await call(b.app, 'GET', '/api/keys', key)).status === 401 ? true : undefined,
    );
    assert.ok(Date.now() - started <= cacheTtlMs + 1_000, `within the TTL (${Date.now() - started} ms)`);
  });

  it('records when a key was last used, in a batch', async () => {
    const a = await instance();
    const created = await call(a.app, 'POST', '/api/keys', keys.admin, { name: 'used' });
    assert.equal(created.body.lastUsedAt, null);
    const before = Date.now();
    await call(a.app, 'GET', '/api/keys', { authorization: `Bearer ${created.body.secret}` });
    await a.store.flushLastUsed();
    const shown = await call(a.app, 'GET', `/api/keys/${created.body.id}`, keys.admin);
    assert.ok(Date.parse(shown.body.lastUsedAt) >= before - 1, shown.body.lastUsedAt);
  });
});
