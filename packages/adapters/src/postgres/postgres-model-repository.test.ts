import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  EnsembleError,
  type ErrorCode,
  type ModelDescriptor,
  newModelVersionSchema,
  newRouteSchema,
  newRouteVersionSchema,
  type RegisterModelInput,
  registerModelSchema,
} from '@ensemble/core';
import { createTestDatabase, type TestDatabase } from '@ensemble/testkit';
import { createDatabase, type Database } from './create-database.ts';
import { runMigrations } from './migration-runner.ts';
import { PostgresModelRepository } from './postgres-model-repository.ts';
import { PostgresRouteRepository } from './postgres-route-repository.ts';

const actor = { actor: 'test' };

function spec(name: string, extra: Partial<RegisterModelInput> = {}) {
  return registerModelSchema.parse({
    name,
    kind: 'chat',
    provider: 'openai',
    providerModelId: 'gpt-4o-mini',
    ...extra,
  });
}

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof EnsembleError, String(error));
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}

describe('PostgresModelRepository', { timeout: 120_000 }, () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let models: PostgresModelRepository;

  before(async () => {
    testDatabase = await createTestDatabase('models');
    database = createDatabase({ url: testDatabase.url });
    await runMigrations(database);
    await database.pool.query(`insert into projects (id, name) values ('other', 'Other')`);
    models = new PostgresModelRepository(database.db);
  });

  after(async () => {
    await database?.close();
    await testDatabase?.drop();
  });

  it('registers a model with version 1 and resolves it; names are unique per project', async () => {
    const registered = await models.register(
      spec('openai/gpt-4o-mini', {
        tags: ['fast'],
        pricing: { inputPerMillionTokens: 0.15, outputPerMillionTokens: 0.6 },
      }),
      actor,
    );
    assert.equal(registered.version, 1);
    assert.equal(registered.status, 'registered');
    const resolved = await models.resolve('default', 'openai/gpt-4o-mini');
    assert.deepEqual(resolved.pricing, { inputPerMillionTokens: 0.15, outputPerMillionTokens: 0.6 });
    assert.deepEqual(resolved.tags, ['fast']);
    await rejectsWith(models.register(spec('openai/gpt-4o-mini'), actor), 'conflict', /already exists/);
    // The same name in another project is another model.
    const other = await models.register(spec('openai/gpt-4o-mini', { projectId: 'other' }), actor);
    assert.equal(other.projectId, 'other');
    await rejectsWith(models.register(spec('x/y', { projectId: 'nope' }), actor), 'not_found', /project 'nope'/);
    await rejectsWith(models.resolve('default', 'openai/unknown'), 'not_found', /model 'openai\/unknown'/);
  });

  it('creates immutable versions from partial specs, numbered in order even when concurrent', async () => {
    await models.register(spec('local/llm', { parameters: { temperature: 0.2 }, credential: 'key' }), actor);
    const v2 = await models.createVersion(
      'default',
      'local/llm',
      newModelVersionSchema.parse({ providerModelId: 'gpt-4o', credential: null }),
      actor,
    );
    assert.equal(v2.version, 2);
    assert.equal(v2.providerModelId, 'gpt-4o');
    assert.equal(v2.credential, undefined);
    assert.deepEqual(v2.parameters, { temperature: 0.2 });
    const fromOne = await models.createVersion('default', 'local/llm', newModelVersionSchema.parse({ from: 1 }), actor);
    assert.equal(fromOne.providerModelId, 'gpt-4o-mini');
    assert.equal(fromOne.credential, 'key');

    const concurrent = await Promise.all(
      Array.from({ length: 8 }, () =>
        models.createVersion('default', 'local/llm', newModelVersionSchema.parse({}), actor),
      ),
    );
    assert.deepEqual(
      concurrent.map((v) => v.version).sort((a, b) => a - b),
      [4, 5, 6, 7, 8, 9, 10, 11],
    );

    await assert.rejects(
      database.pool.query(`update model_versions set provider_model_id = 'changed' where version = 1`),
      /model versions are immutable/,
    );
    assert.equal((await models.getVersion('default', 'local/llm', 1)).providerModelId, 'gpt-4o-mini');
    await rejectsWith(models.getVersion('default', 'local/llm', 99), 'not_found', /local\/llm@99/);
    const page = await models.listVersions('default', 'local/llm', { limit: 4 });
    assert.deepEqual(
      page.items.map((v) => v.version),
      [11, 10, 9, 8],
    );
    const next = await models.listVersions('default', 'local/llm', { limit: 100, after: Number(page.nextCursor) });
    assert.deepEqual(
      next.items.map((v) => v.version),
      [7, 6, 5, 4, 3, 2, 1],
    );
  });

  it('resolves refs: name@n, name:alias, and a bare name to latest if set, else the newest', async () => {
    await models.register(spec('refs/model', { aliases: ['production'] }), actor);
    await models.createVersion('default', 'refs/model', newModelVersionSchema.parse({ providerModelId: 'v2' }), actor);
    assert.equal((await models.resolve('default', 'refs/model')).version, 2);
    assert.equal((await models.resolve('default', 'refs/model:production')).version, 1);
    assert.equal((await models.resolve('default', 'refs/model@2')).providerModelId, 'v2');
    await models.moveAlias('default', 'refs/model', 'latest', 1, actor);
    const pinned = await models.resolve('default', 'refs/model');
    assert.equal(pinned.version, 1);
    assert.equal(pinned.latestVersion, 2);
    assert.deepEqual(pinned.aliases, { latest: 1, production: 1 });
    await rejectsWith(models.resolve('default', 'refs/model:staging'), 'not_found', /refs\/model:staging/);
    await rejectsWith(models.resolve('default', 'refs/model@3'), 'not_found');
    await rejectsWith(models.resolve('default', 'refs/model@x'), 'validation_failed');
  });

  it('moves aliases atomically with history, compare-and-set, replace and delete', async () => {
    await models.register(spec('alias/model'), actor);
    for (let i = 0; i < 3; i++) {
      await models.createVersion('default', 'alias/model', newModelVersionSchema.parse({}), actor);
    }
    await models.moveAlias('default', 'alias/model', 'production', 1, { actor: 'alice', expectedVersion: null });
    await models.moveAlias('default', 'alias/model', 'production', 2, { actor: 'bob', expectedVersion: 1 });
    await rejectsWith(
      models.moveAlias('default', 'alias/model', 'production', 3, { actor: 'carol', expectedVersion: 1 }),
      'conflict',
      /moved meanwhile/,
    );
    await rejectsWith(models.moveAlias('default', 'alias/model', 'production', 9, actor), 'not_found');
    const history = await models.aliasHistory('default', 'alias/model', 'production', { limit: 10 });
    assert.deepEqual(
      history.map((h) => [h.fromVersion, h.toVersion, h.actor]),
      [
        [1, 2, 'bob'],
        [null, 1, 'alice'],
      ],
    );

    const replaced = await models.replaceAliases('default', 'alias/model', { staging: 4, production: 2 }, actor);
    assert.deepEqual(
      replaced.map((a) => [a.alias, a.version]),
      [
        ['production', 2],
        ['staging', 4],
      ],
    );
    await models.replaceAliases('default', 'alias/model', { staging: 3 }, actor);
    assert.deepEqual(
      (await models.listAliases('default', 'alias/model')).map((a) => [a.alias, a.version]),
      [['staging', 3]],
    );
    const productionHistory = await models.aliasHistory('default', 'alias/model', 'production', { limit: 1 });
    assert.deepEqual(productionHistory[0] && [productionHistory[0].fromVersion, productionHistory[0].toVersion], [
      2,
      null,
    ]);
    await models.deleteAlias('default', 'alias/model', 'staging', actor);
    await rejectsWith(models.deleteAlias('default', 'alias/model', 'staging', actor), 'not_found');
    await rejectsWith(models.aliasHistory('default', 'alias/model', 'never', { limit: 5 }), 'not_found');
  });

  it('keeps alias history consistent under concurrent moves', async () => {
    await models.register(spec('race/model'), actor);
    for (let i = 0; i < 4; i++)
      await models.createVersion('default', 'race/model', newModelVersionSchema.parse({}), actor);
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        models.moveAlias('default', 'race/model', 'production', (i % 5) + 1, { actor: `mover-${i}` }),
      ),
    );
    const history = (await models.aliasHistory('default', 'race/model', 'production', { limit: 100 })).reverse();
    assert.equal(history.length, 30);
    assert.equal(history[0]?.fromVersion, null);
    for (let i = 1; i < history.length; i++) assert.equal(history[i]?.fromVersion, history[i - 1]?.toVersion);
    const [current] = await models.listAliases('default', 'race/model');
    assert.equal(current?.version, history.at(-1)?.toVersion);
  });

  it('lists with filters and cursor pagination', async () => {
    const base = { projectId: 'other' };
    await models.register(spec('list/a', { ...base, kind: 'embedding', provider: 'local', tags: ['builtin'] }), actor);
    await models.register(spec('list/b', { ...base, kind: 'embedding', provider: 'openai' }), actor);
    await models.register(
      spec('list/c', { ...base, kind: 'classifier', provider: 'local', tags: ['builtin', 'x'] }),
      actor,
    );
    await models.register(spec('list/d', { ...base, kind: 'chat', provider: 'anthropic' }), actor);
    await models.setStatus('other', 'list/d', 'ready', { ...actor, reason: 'health check passed' });
    // A new version moves the model's provider for the filter (it follows the resolved version).
    await models.createVersion('other', 'list/b', newModelVersionSchema.parse({ provider: 'bedrock' }), actor);

    const names = (page: { items: ModelDescriptor[] }) => page.items.map((m) => m.name);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await models.list({ projectId: 'other', limit: 2, ...(cursor ? { after: cursor } : {}) });
      assert.ok(page.items.length <= 2);
      seen.push(...names(page));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    assert.deepEqual(seen, ['list/a', 'list/b', 'list/c', 'list/d', 'openai/gpt-4o-mini']);

    assert.deepEqual(names(await models.list({ projectId: 'other', limit: 50, kind: 'embedding' })), [
      'list/a',
      'list/b',
    ]);
    assert.deepEqual(names(await models.list({ projectId: 'other', limit: 50, provider: 'local' })), [
      'list/a',
      'list/c',
    ]);
    assert.deepEqual(names(await models.list({ projectId: 'other', limit: 50, provider: 'bedrock' })), ['list/b']);
    assert.deepEqual(names(await models.list({ projectId: 'other', limit: 50, tag: 'builtin' })), ['list/a', 'list/c']);
    assert.deepEqual(names(await models.list({ projectId: 'other', limit: 50, status: 'ready' })), ['list/d']);
    assert.deepEqual(
      names(await models.list({ limit: 50, kind: 'classifier', tag: 'x', provider: 'local', status: 'registered' })),
      ['list/c'],
    );
    const everywhere = await models.list({ limit: 500 });
    assert.ok(
      everywhere.items.some((m) => m.projectId === 'default') && everywhere.items.some((m) => m.projectId === 'other'),
    );
    await rejectsWith(models.list({ limit: 5, after: 'garbage' }), 'validation_failed');
  });

  it('updates metadata, retires, refuses versions of retired models, and purges everything', async () => {
    await models.register(spec('life/model', { aliases: ['production'] }), actor);
    const updated = await models.update('default', 'life/model', { description: 'd', tags: ['t'] }, actor);
    assert.equal(updated.description, 'd');
    const retired = await models.update('default', 'life/model', { status: 'retired' }, actor);
    assert.equal(retired.status, 'retired');
    await rejectsWith(
      models.createVersion('default', 'life/model', newModelVersionSchema.parse({}), actor),
      'conflict',
      /retired/,
    );
    await models.purge('default', 'life/model', actor);
    await rejectsWith(models.resolve('default', 'life/model'), 'not_found');
    const leftovers = await database.pool.query(
      `select (select count(*) from model_aliases a where not exists (select 1 from models m where m.id = a.model_id)) +
              (select count(*) from model_versions v where not exists (select 1 from models m where m.id = v.model_id)) as n`,
    );
    assert.equal(Number(leftovers.rows[0].n), 0);
    await models.register(spec('life/model'), actor);
  });

  it('shares one namespace with routes, and keeps the models that active routes call', async () => {
    const routes = new PostgresRouteRepository(database.db);
    await models.register(spec('guard/primary', { aliases: ['production'] }), actor);
    await models.register(spec('guard/backup'), actor);
    await routes.create(
      'default',
      newRouteSchema.parse({
        name: 'guard/chat',
        policy: { strategy: 'fallback', targets: ['guard/primary:production', 'guard/backup@1'] },
      }),
      actor,
    );
    await rejectsWith(models.register(spec('guard/chat'), actor), 'conflict', /a route named 'guard\/chat' exists/);
    // The same name in another project is another namespace.
    await models.register(spec('guard/chat', { projectId: 'other' }), actor);

    await rejectsWith(
      models.update('default', 'guard/primary', { status: 'retired' }, actor),
      'conflict',
      /cannot retire model 'guard\/primary': route\(s\) 'guard\/chat' call it/,
    );
    await rejectsWith(
      models.setStatus('default', 'guard/backup', 'retired', actor),
      'conflict',
      /'guard\/chat' call it/,
    );
    await rejectsWith(
      models.purge('default', 'guard/backup', actor),
      'conflict',
      /cannot delete model 'guard\/backup'/,
    );
    assert.equal((await models.resolve('default', 'guard/backup')).status, 'registered');

    // Once the route calls something else (or is retired), the model may go.
    await routes.addVersion(
      'default',
      'guard/chat',
      newRouteVersionSchema.parse({ policy: { strategy: 'fallback', targets: ['guard/primary'] } }),
      actor,
    );
    await models.purge('default', 'guard/backup', actor);
    await routes.update('default', 'guard/chat', { status: 'retired' }, actor);
    assert.equal((await models.update('default', 'guard/primary', { status: 'retired' }, actor)).status, 'retired');
  });

  it('writes lifecycle events to the outbox in the same transaction', async () => {
    await database.pool.query('delete from outbox');
    await models.register(spec('events/model', { aliases: ['production'] }), { actor: 'test', traceId: 'trace-1' });
    await models.setStatus('default', 'events/model', 'deploying', actor);
    await models.setStatus('default', 'events/model', 'deploying', actor); // unchanged: no event
    await models.createVersion('default', 'events/model', newModelVersionSchema.parse({}), actor);
    await models.moveAlias('default', 'events/model', 'production', 2, actor);
    await rejectsWith(models.moveAlias('default', 'events/model', 'production', 7, actor), 'not_found');
    const { rows } = await database.pool.query<{
      topic: string;
      key: string;
      value: { type: string; traceId: string; data: Record<string, unknown> };
    }>('select topic, key, value from outbox order by id');
    assert.deepEqual(
      rows.map((row) => row.value.type),
      [
        'models/model.registered',
        'models/alias.moved',
        'models/model.status-changed',
        'models/version.created',
        'models/alias.moved',
      ],
    );
    assert.ok(rows.every((row) => row.topic === 'ensemble.models.lifecycle' && row.key === 'default/events/model'));
    assert.equal(rows[0]?.value.traceId, 'trace-1');
    assert.deepEqual(rows[2]?.value.data, { name: 'events/model', from: 'registered', to: 'deploying', actor: 'test' });
    assert.deepEqual(rows[4]?.value.data, { name: 'events/model', alias: 'production', from: 1, to: 2, actor: 'test' });
    // The status change is in the model's health history too, written in the same transaction.
    const history = await models.statusHistory('default', 'events/model', { limit: 10 });
    assert.deepEqual(
      history.map((change) => [change.from, change.to, change.actor, change.reason]),
      [['registered', 'deploying', 'test', null]],
    );
    await models.setStatus('default', 'events/model', 'failed', { ...actor, reason: 'health check timed out' });
    assert.equal(
      (await models.statusHistory('default', 'events/model', { limit: 1 }))[0]?.reason,
      'health check timed out',
    );
  });
});
