import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type EnsembleError, type NewApiKeyInput, newApiKeySchema } from '@ensemble/core';
import { createTestDatabase, type TestDatabase } from '@ensemble/testkit';
import { createDatabase, type Database } from './create-database.ts';
import { runMigrations } from './migration-runner.ts';
import { PostgresApiKeyStore } from './postgres-api-key-store.ts';

const newKey = (input: NewApiKeyInput) => newApiKeySchema.parse(input);

describe('PostgresApiKeyStore', { timeout: 120_000 }, () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let store: PostgresApiKeyStore;
  /** The store's clock, moved by the tests; the cache and expiry read it. */
  let now = Date.now();

  before(async () => {
    testDatabase = await createTestDatabase('api_keys');
    database = createDatabase({ url: testDatabase.url });
    await runMigrations(database);
    await database.pool.query(`insert into projects (id, name) values ('team-a', 'Team A')`);
    store = new PostgresApiKeyStore(database.db, { cacheTtlMs: 5_000, now: () => now });
  });

  after(async () => {
    await store?.close();
    await database?.close();
    await testDatabase?.drop();
  });

  it('creates a random key and keeps only its hash and first characters', async () => {
    const { key, secret } = await store.create('default', newKey({ name: 'ci', tags: ['team:ml', 'env=prod'] }));
    assert.match(secret, /^ens_[A-Za-z0-9]{43}$/);
    assert.match(key.id, /^key_[A-Za-z0-9]{16}$/);
    assert.equal(key.prefix, secret.slice(0, 8));
    assert.deepEqual(
      { name: key.name, projectId: key.projectId, admin: key.admin, allowedModels: key.allowedModels, tags: key.tags },
      { name: 'ci', projectId: 'default', admin: false, allowedModels: null, tags: ['team:ml', 'env=prod'] },
    );
    const { rows } = await database.pool.query<{ row: string }>('select k::text as row from api_keys k');
    const stored = rows.map((r) => r.row).join('\n');
    assert.ok(!stored.includes(secret.slice(8)), 'no part of the secret beyond its prefix is stored');

    const other = await store.create('default', newKey({ name: 'ci' }));
    assert.notEqual(other.secret, secret);
  });

  it('authenticates a key into its principal, and refuses an unknown one', async () => {
    const { key, secret } = await store.create(
      'team-a',
      newKey({
        name: 'app',
        allowedModels: ['openai/gpt-4o-mini', 'cheap-route'],
        tags: ['tier:gold'],
        role: 'viewer',
        allowedIps: ['10.0.0.0/8', '192.168.1.7'],
      }),
    );
    assert.equal(key.role, 'viewer');
    assert.deepEqual(key.allowedIps, ['10.0.0.0/8', '192.168.1.7/32']);
    const answer = await store.authenticate(secret);
    assert.ok('principal' in answer);
    assert.deepEqual(answer.principal, {
      keyId: key.id,
      projectId: 'team-a',
      admin: false,
      role: 'viewer',
      tags: ['tier:gold'],
      allowedModels: ['openai/gpt-4o-mini', 'cheap-route'],
      allowedIps: ['10.0.0.0/8', '192.168.1.7/32'],
    });
    assert.ok(Object.isFrozen(answer.principal));
    assert.deepEqual(await store.authenticate(`ens_${'x'.repeat(43)}`), { failure: 'unknown' });
  });

  it('revokes at once on this instance; a revocation elsewhere arrives when the cache entry ages out', async () => {
    const mine = await store.create('default', newKey({ name: 'revoked here' }));
    assert.ok('principal' in (await store.authenticate(mine.secret)));
    const revoked = await store.revoke('default', mine.key.id);
    assert.ok(revoked.revokedAt instanceof Date);
    assert.deepEqual(await store.authenticate(mine.secret), { failure: 'revoked' });
    // Revoking again changes nothing.
    assert.deepEqual((await store.revoke('default', mine.key.id)).revokedAt, revoked.revokedAt);

    const theirs = await store.create('default', newKey({ name: 'revoked by another instance' }));
    assert.ok('principal' in (await store.authenticate(theirs.secret)));
    await database.pool.query('update api_keys set revoked_at = now() where id = $1', [theirs.key.id]);
    assert.ok('principal' in (await store.authenticate(theirs.secret)), 'still trusted from memory');
    now += 5_001;
    assert.deepEqual(await store.authenticate(theirs.secret), { failure: 'revoked' });
  });

  it('refuses a key from the instant it expires, even while cached', async () => {
    const { key, secret } = await store.create(
      'default',
      newKey({ name: 'short-lived', expiresAt: new Date(now + 60_000).toISOString() }),
    );
    assert.equal(key.expiresAt?.getTime(), now + 60_000);
    assert.ok('principal' in (await store.authenticate(secret)));
    now += 60_000;
    assert.deepEqual(await store.authenticate(secret), { failure: 'expired' });
    now += 10_000;
    assert.deepEqual(await store.authenticate(secret), { failure: 'expired' }, 'and from the database');

    await assert.rejects(
      store.create('default', newKey({ name: 'late', expiresAt: new Date(now - 1).toISOString() })),
      (error: EnsembleError) => error.code === 'validation_failed' && error.field === 'expiresAt',
    );
  });

  it('records last use in batches, off the request path', async () => {
    const { key, secret } = await store.create('default', newKey({ name: 'used' }));
    await store.authenticate(secret);
    await store.authenticate(secret);
    assert.equal((await store.get('default', key.id)).lastUsedAt, null, 'not written per request');
    await store.flushLastUsed();
    assert.equal((await store.get('default', key.id)).lastUsedAt?.getTime(), now);
  });

  it('lists a project’s keys newest first, page by page, and scopes get and revoke to the project', async () => {
    const names = ['p1', 'p2', 'p3', 'p4', 'p5'];
    for (const name of names) await store.create('team-a', newKey({ name }));
    const seen: string[] = [];
    let after: string | undefined;
    do {
      const page = await store.list('team-a', { limit: 2, ...(after === undefined ? {} : { after }) });
      seen.push(...page.items.map((key) => key.name));
      after = page.nextCursor;
    } while (after !== undefined);
    assert.deepEqual(seen.slice(0, 5), ['p5', 'p4', 'p3', 'p2', 'p1']);
    assert.ok(seen.includes('app'));
    assert.ok(!seen.includes('ci'), 'keys of other projects are not listed');

    const [teamKey] = (await store.list('team-a', { limit: 1 })).items;
    assert.ok(teamKey);
    for (const attempt of [store.get('default', teamKey.id), store.revoke('default', teamKey.id)]) {
      await assert.rejects(attempt, (error: EnsembleError) => error.code === 'not_found');
    }
    await assert.rejects(store.list('team-a', { limit: 2, after: 'nope' }), { code: 'validation_failed' });
    await assert.rejects(store.create('missing', newKey({ name: 'x' })), { code: 'not_found' });
  });
});

describe('PostgresApiKeyStore: the bootstrap admin key', { timeout: 120_000 }, () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let stores: PostgresApiKeyStore[];

  before(async () => {
    testDatabase = await createTestDatabase('api_keys_bootstrap');
    database = createDatabase({ url: testDatabase.url });
    await runMigrations(database);
    stores = [new PostgresApiKeyStore(database.db), new PostgresApiKeyStore(database.db)];
  });

  after(async () => {
    for (const store of stores ?? []) await store.close();
    await database?.close();
    await testDatabase?.drop();
  });

  const chosen = 'Zx9-first.admin_key~0123456789abcdefgh';
  const replacement = 'Qw8+second/admin-key_9876543210ABCDEFG=';

  it('is generated exactly once, even by instances starting together', async () => {
    const [a, b] = stores as [PostgresApiKeyStore, PostgresApiKeyStore];
    const outcomes = await Promise.all([a.ensureBootstrapKey(), b.ensureBootstrapKey()]);
    const generated = outcomes.filter((outcome) => outcome.kind === 'generated');
    assert.equal(generated.length, 1);
    assert.equal(outcomes.filter((outcome) => outcome.kind === 'unchanged').length, 1);
    const [first] = generated;
    assert.ok(first?.kind === 'generated');
    assert.match(first.secret, /^ens_[A-Za-z0-9]{43}$/);
    assert.deepEqual([first.key.admin, first.key.bootstrap, first.key.projectId], [true, true, 'default']);
    const answer = await a.authenticate(first.secret);
    assert.ok('principal' in answer && answer.principal.admin);
    assert.equal((await a.ensureBootstrapKey()).kind, 'unchanged');
  });

  it('takes ENSEMBLE_ADMIN_KEY in place of the generated key, and a new value in place of the old', async () => {
    const [a] = stores as [PostgresApiKeyStore];
    const configured = await a.ensureBootstrapKey(chosen);
    assert.equal(configured.kind, 'configured');
    assert.ok(configured.kind === 'configured' && configured.replaced?.revokedAt instanceof Date);
    assert.equal(configured.key.prefix, chosen.slice(0, 4));
    assert.equal((await a.ensureBootstrapKey(chosen)).kind, 'unchanged');
    assert.ok('principal' in (await a.authenticate(chosen)));

    const next = await a.ensureBootstrapKey(replacement);
    assert.equal(next.kind, 'configured');
    assert.deepEqual(await a.authenticate(chosen), { failure: 'revoked' }, 'the replaced key stops at once here');
    assert.ok('principal' in (await a.authenticate(replacement)));
  });

  it('leaves a revoked bootstrap key revoked and generates no new one', async () => {
    const [a] = stores as [PostgresApiKeyStore];
    const live = await a.ensureBootstrapKey(replacement);
    await a.revoke('default', live.kind === 'unchanged' ? live.key.id : '');
    assert.equal((await a.ensureBootstrapKey(replacement)).kind, 'revoked');
    assert.equal((await a.ensureBootstrapKey()).kind, 'none');
    const { rows } = await database.pool.query('select 1 from api_keys where bootstrap and revoked_at is null');
    assert.equal(rows.length, 0);
  });

  it('refuses an ENSEMBLE_ADMIN_KEY that is the secret of an ordinary key', async () => {
    const [a] = stores as [PostgresApiKeyStore];
    const { secret } = await a.create('default', newApiKeySchema.parse({ name: 'ordinary' }));
    await assert.rejects(a.ensureBootstrapKey(secret), (error: EnsembleError) => {
      assert.equal(error.code, 'config_invalid');
      assert.match(error.message, /ENSEMBLE_ADMIN_KEY/);
      assert.ok(!error.message.includes(secret));
      return true;
    });
  });
});
