import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CredentialCipher,
  createDatabase,
  type Database,
  PostgresCredentialRepository,
  runMigrations,
} from '@ensemble/adapters/postgres';
import { configSchema, newApiKeySchema } from '@ensemble/core';
import { buildApp, createLogger, credentialsModule, type EnsembleApp } from '@ensemble/server';
import { createTestDatabase, type TestDatabase } from '@ensemble/testkit';
import { openTestKeys, type TestKeys } from '../testing/test-keys.ts';

/** Every line the app logged. */
class Lines {
  readonly lines: string[] = [];
  write(line: string): void {
    this.lines.push(line);
  }
}

describe('/api/credentials against PostgreSQL', { timeout: 120_000 }, () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let keys: TestKeys;
  const logs = new Lines();
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const secret = `sk-live-${randomBytes(20).toString('hex')}`;

  const appWith = (cipher: CredentialCipher) =>
    buildApp({
      config: configSchema.parse({}),
      logger: createLogger({ level: 'trace', destination: logs }),
      authenticator: keys.store,
      checks: [],
      modules: [credentialsModule(new PostgresCredentialRepository(database.db, cipher))],
    });
  let app: EnsembleApp;
  const call = async (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown) => {
    const response = await app.inject({
      method,
      url,
      headers: keys.admin,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    return {
      status: response.statusCode,
      text: response.body,
      body: response.body === '' ? undefined : response.json(),
    };
  };

  before(async () => {
    testDatabase = await createTestDatabase('credentials_api');
    database = createDatabase({ url: testDatabase.url });
    await runMigrations(database);
    keys = await openTestKeys(database);
    app = await appWith(new CredentialCipher({ current: oldKey }));
  });

  after(async () => {
    await app?.close();
    await keys?.store.close();
    await database?.close();
    await testDatabase?.drop();
  });

  it('stores a credential and never returns or logs its secret', async () => {
    const created = await call('POST', '/api/credentials', { name: 'openai', provider: 'openai', secret });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.hint, `sk-…${secret.slice(-4)}`);
    assert.equal((await call('POST', '/api/credentials', { name: 'openai', provider: 'openai', secret })).status, 409);
    const invalid = await call('POST', '/api/credentials', { name: 'Bad Name', provider: 'openai', secret });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.body.error.param, 'body.name');
    const missing = await call('POST', '/api/credentials', { name: 'x', provider: 'openai' });
    assert.equal(missing.body.error.param, 'body.secret');

    const listed = await call('GET', '/api/credentials');
    const got = await call('GET', '/api/credentials/openai');
    assert.equal(got.status, 200);
    assert.equal((await call('GET', '/api/credentials/nope')).status, 404);
    const body = secret.slice(8, -4);
    for (const response of [created, listed, got, invalid]) assert.ok(!response.text.includes(body));
    assert.ok(logs.lines.length > 0);
    assert.ok(!logs.lines.join('').includes(body), 'a log line holds the secret');
  });

  it('rotates to a new master key over HTTP; the old key is then unnecessary', async () => {
    await app.close();
    app = await appWith(new CredentialCipher({ current: newKey, previous: [oldKey] }));
    const { secret: memberSecret } = await keys.store.create('default', newApiKeySchema.parse({ name: 'member' }));
    const asMember = await app.inject({
      method: 'POST',
      url: '/api/credentials/rotate',
      headers: { authorization: `Bearer ${memberSecret}` },
    });
    assert.equal(asMember.statusCode, 403, 'rotation touches every project: admin keys only');
    const rotated = await call('POST', '/api/credentials/rotate');
    assert.equal(rotated.status, 200, rotated.text);
    assert.deepEqual(rotated.body, { rotated: 1, total: 1 });
    const repository = new PostgresCredentialRepository(database.db, new CredentialCipher({ current: newKey }));
    assert.equal(await repository.reveal('default', 'openai'), secret);
    assert.equal((await call('DELETE', '/api/credentials/openai')).status, 204);
    assert.equal((await call('DELETE', '/api/credentials/openai')).status, 404);
  });
});
