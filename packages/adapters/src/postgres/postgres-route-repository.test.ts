import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  EnsembleError,
  type ErrorCode,
  newRouteSchema,
  newRouteVersionSchema,
  type RoutePolicyInput,
  registerModelSchema,
} from '@ensemble/core';
import { createTestDatabase, type TestDatabase } from '@ensemble/testkit';
import { createDatabase, type Database } from './create-database.ts';
import { runMigrations } from './migration-runner.ts';
import { PostgresModelRepository } from './postgres-model-repository.ts';
import { PostgresRouteRepository } from './postgres-route-repository.ts';

const actor = { actor: 'test' };
const body = { ...actor, field: 'body' };

async function rejectsWith(
  promise: Promise<unknown>,
  code: ErrorCode,
  expected: { message?: RegExp; field?: string } = {},
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof EnsembleError, String(error));
    assert.equal(error.code, code, error.message);
    if (expected.message) assert.match(error.message, expected.message);
    if (expected.field) assert.equal(error.field, expected.field, error.message);
    return true;
  });
}

const route = (name: string, policy: RoutePolicyInput, description?: string) =>
  newRouteSchema.parse({ name, policy, ...(description === undefined ? {} : { description }) });
const version = (policy: RoutePolicyInput, description?: string) =>
  newRouteVersionSchema.parse({ policy, ...(description === undefined ? {} : { description }) });

describe('PostgresRouteRepository', { timeout: 120_000 }, () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let routes: PostgresRouteRepository;
  const changes: string[] = [];

  before(async () => {
    testDatabase = await createTestDatabase('route_repository');
    database = createDatabase({ url: testDatabase.url });
    await runMigrations(database);
    await database.pool.query("insert into projects (id, name) values ('other', 'Other')");
    const models = new PostgresModelRepository(database.db);
    for (const name of ['openai/gpt-4o', 'openai/gpt-4o-mini', 'anthropic/claude', 'old/model']) {
      await models.register(
        registerModelSchema.parse({
          name,
          kind: 'chat',
          provider: 'openai',
          providerModelId: name,
          projectId: 'default',
          aliases: ['production'],
        }),
        actor,
      );
    }
    await models.setStatus('default', 'old/model', 'retired', actor);
    routes = new PostgresRouteRepository(database.db);
    routes.onChange((projectId) => changes.push(projectId));
  });

  after(async () => {
    await database?.close();
    await testDatabase?.drop();
  });

  it('creates a route at version 1, current, with its policy validated and its targets listed', async () => {
    const created = await routes.create(
      'default',
      route('chat', { strategy: 'fallback', targets: ['openai/gpt-4o', 'anthropic/claude@1'] }, 'main chat'),
      body,
    );
    assert.equal(created.currentVersion, 1);
    assert.equal(created.latestVersion, 1);
    assert.equal(created.status, 'active');
    assert.equal(created.current.description, 'main chat');
    assert.deepEqual(created.current.targets, ['openai/gpt-4o', 'anthropic/claude@1']);
    assert.equal(created.current.createdBy, 'test');
    assert.equal(created.current.policy.strategy, 'fallback');
    assert.deepEqual(changes, ['default']);

    const current = await routes.current('default', 'chat');
    assert.equal(current?.version, 1);
    assert.equal(current?.description, 'main chat');
    assert.equal(await routes.current('default', 'openai/gpt-4o'), undefined);
    assert.equal(await routes.current('other', 'chat'), undefined, 'routes are per project');
    await rejectsWith(routes.create('default', route('chat', 'openai/gpt-4o'), body), 'conflict', {
      field: 'body.name',
    });
  });

  it("refuses a model's name, and targets that do not exist, naming their path", async () => {
    await rejectsWith(routes.create('default', route('openai/gpt-4o', 'anthropic/claude'), body), 'conflict', {
      message: /a model named 'openai\/gpt-4o' exists/,
      field: 'body.name',
    });
    const cases: Array<[RoutePolicyInput, string, RegExp]> = [
      [
        { strategy: 'fallback', targets: ['openai/gpt-4o', 'openai/gpt-4o-typo'] },
        'body.policy.targets[1].target',
        /names no model or route of project 'default': 'openai\/gpt-4o-typo'/,
      ],
      [{ strategy: 'fallback', targets: ['anthropic/claude@7'] }, 'body.policy.targets[0].target', /no version 7/],
      [
        {
          strategy: 'conditional',
          conditions: [{ when: { 'metadata.a': 1 }, use: 'anthropic/claude:staging' }],
          default: 'openai/gpt-4o',
        },
        'body.policy.conditions[0].use.target',
        /has no alias 'staging'/,
      ],
      ['old/model', 'body.policy.target', /names model 'old\/model', which is retired/],
      ['fresh', 'body.policy.target', /cannot be the route itself/],
      ['chat@1', 'body.policy.target', /'chat' is a route: routes are called by their bare name/],
    ];
    for (const [policy, field, message] of cases) {
      await rejectsWith(routes.create('default', route('fresh', policy), body), 'validation_failed', {
        field,
        message,
      });
    }
    await routes.create('default', route('fresh', 'anthropic/claude:production'), body);
    assert.equal((await routes.get('default', 'fresh')).current.targets[0], 'anthropic/claude:production');
    await rejectsWith(routes.create('nope', route('r', 'openai/gpt-4o'), body), 'not_found', { message: /project/ });
    // Another project sees none of default's models.
    await rejectsWith(routes.create('other', route('chat', 'openai/gpt-4o'), body), 'validation_failed', {
      message: /project 'other'/,
    });
  });

  it('adds versions that become current, keeps each immutable, and pages them newest first', async () => {
    const second = await routes.addVersion('default', 'chat', version('openai/gpt-4o-mini'), body);
    assert.equal(second.currentVersion, 2);
    assert.equal(second.current.description, 'main chat', 'kept from the current version');
    const third = await routes.addVersion(
      'default',
      'chat',
      version({ strategy: 'loadbalance', targets: ['openai/gpt-4o', 'openai/gpt-4o-mini'] }, 'split'),
      body,
    );
    assert.equal(third.currentVersion, 3);
    assert.equal((await routes.current('default', 'chat'))?.policy.strategy, 'loadbalance');

    const page = await routes.listVersions('default', 'chat', { limit: 2 });
    assert.deepEqual(
      page.items.map((item) => item.version),
      [3, 2],
    );
    const rest = await routes.listVersions('default', 'chat', { limit: 2, after: Number(page.nextCursor) });
    assert.deepEqual(
      rest.items.map((item) => item.version),
      [1],
    );
    assert.equal(rest.nextCursor, undefined);
    assert.equal((await routes.getVersion('default', 'chat', 1)).description, 'main chat');
    await rejectsWith(routes.getVersion('default', 'chat', 9), 'not_found');
    await rejectsWith(routes.addVersion('default', 'ghost', version('openai/gpt-4o'), body), 'not_found');
    await rejectsWith(
      routes.addVersion(
        'default',
        'chat',
        version({ strategy: 'fallback', targets: ['openai/gpt-4o', 'nothing/here'] }),
        body,
      ),
      'validation_failed',
      { field: 'body.policy.targets[1].target' },
    );
    await assert.rejects(
      database.pool.query("update route_versions set description = 'changed' where version = 1"),
      /immutable/,
    );
  });

  it('moves the current version back and forth, with compare-and-set', async () => {
    const back = await routes.update('default', 'chat', { currentVersion: 1 }, body);
    assert.equal(back.currentVersion, 1);
    assert.equal(back.latestVersion, 3);
    assert.equal((await routes.current('default', 'chat'))?.version, 1);
    await rejectsWith(
      routes.update('default', 'chat', { currentVersion: 3, expectedCurrentVersion: 2 }, body),
      'conflict',
      { field: 'body.expectedCurrentVersion' },
    );
    await rejectsWith(routes.update('default', 'chat', { currentVersion: 8 }, body), 'not_found', {
      field: 'body.currentVersion',
    });
    const forward = await routes.update('default', 'chat', { currentVersion: 3, expectedCurrentVersion: 1 }, body);
    assert.equal(forward.currentVersion, 3);
  });

  it('nests routes, refusing loops and chains deeper than the gateway follows', async () => {
    await routes.create('default', route('outer', { strategy: 'fallback', targets: ['chat', 'fresh'] }), body);
    await rejectsWith(
      routes.addVersion(
        'default',
        'chat',
        version({ strategy: 'fallback', targets: ['openai/gpt-4o', 'outer'] }),
        body,
      ),
      'validation_failed',
      { field: 'body.policy.targets[1].target', message: /chat → outer → chat/ },
    );
    // outer → chat; then n1 → n2 → n3 → outer → chat is 5 routes: the most the gateway follows.
    await routes.create('default', route('n3', 'outer'), body);
    await routes.create('default', route('n2', 'n3'), body);
    await routes.create('default', route('n1', 'n2'), body);
    await rejectsWith(routes.create('default', route('n0', 'n1'), body), 'validation_failed', {
      field: 'body.policy.target',
      message: /6 deep \(n0 → n1 → n2 → n3 → outer → chat\)/,
    });
  });

  it('lists routes by name with filters and cursors', async () => {
    const all = await routes.list('default', { limit: 3 });
    assert.deepEqual(
      all.items.map((item) => item.name),
      ['chat', 'fresh', 'n1'],
    );
    const next = await routes.list('default', { limit: 10, ...(all.nextCursor ? { after: all.nextCursor } : {}) });
    assert.deepEqual(
      next.items.map((item) => item.name),
      ['n2', 'n3', 'outer'],
    );
    const usingClaude = await routes.list('default', { limit: 10, target: 'anthropic/claude' });
    assert.deepEqual(
      usingClaude.items.map((item) => item.name),
      ['fresh'],
      'matches anthropic/claude:production; chat moved off claude@1 in version 2',
    );
    const nestingChat = await routes.list('default', { limit: 10, target: 'chat' });
    assert.deepEqual(
      nestingChat.items.map((item) => item.name),
      ['outer'],
    );
    assert.equal((await routes.list('other', { limit: 10 })).items.length, 0);
    assert.deepEqual(
      (await routes.currentAll('default')).map((each) => `${each.name}@${each.version}`),
      ['chat@3', 'fresh@1', 'n1@1', 'n2@1', 'n3@1', 'outer@1'],
    );
  });

  it('retires and deletes only routes nothing active targets; retired routes are not served', async () => {
    await rejectsWith(routes.update('default', 'outer', { status: 'retired' }, body), 'conflict', {
      message: /route\(s\) 'n3' target it/,
    });
    await rejectsWith(routes.purge('default', 'chat', body), 'conflict', { message: /'outer' target it/ });
    await routes.purge('default', 'n1', body);
    await rejectsWith(routes.get('default', 'n1'), 'not_found');
    const retired = await routes.update('default', 'n2', { status: 'retired' }, body);
    assert.equal(retired.status, 'retired');
    assert.equal(await routes.current('default', 'n2'), undefined);
    assert.ok(!(await routes.currentAll('default')).some((each) => each.name === 'n2'));
    assert.deepEqual(
      (await routes.list('default', { limit: 10, status: 'retired' })).items.map((item) => item.name),
      ['n2'],
    );
    await rejectsWith(routes.addVersion('default', 'n2', version('openai/gpt-4o'), body), 'conflict', {
      message: /retired/,
    });
    await rejectsWith(routes.create('default', route('uses-n2', 'n2'), body), 'validation_failed', {
      message: /route 'n2', which is retired/,
    });
    const back = await routes.update('default', 'n2', { status: 'active' }, body);
    assert.equal(back.status, 'active');
    await routes.purge('default', 'n2', body);
    // n3 is now targeted by nothing active; a route targeting it cannot come back while it is retired.
    await routes.update('default', 'n3', { status: 'retired' }, body);
    await routes.create('default', route('n4', 'openai/gpt-4o'), body);
    await routes.addVersion('default', 'n4', version('outer'), body);
    await routes.update('default', 'n4', { status: 'retired' }, body);
    await routes.update('default', 'outer', { status: 'retired' }, body);
    await rejectsWith(routes.update('default', 'n4', { status: 'active' }, body), 'validation_failed', {
      field: 'body.status',
      message: /version 2's policy.target names route 'outer', which is retired/,
    });
    await routes.update('default', 'n4', { status: 'active', currentVersion: 1 }, body);
    await routes.update('default', 'outer', { status: 'active' }, body);
    await routes.purge('default', 'n3', body);
    await routes.purge('default', 'n4', body);
  });

  it('re-checks targets when an old version is made current again', async () => {
    const models = new PostgresModelRepository(database.db);
    await models.register(
      registerModelSchema.parse({ name: 'temp/model', kind: 'chat', provider: 'openai', providerModelId: 'x' }),
      actor,
    );
    await routes.create('default', route('uses-temp', 'temp/model'), body);
    await routes.addVersion('default', 'uses-temp', version('openai/gpt-4o'), body);
    await models.purge('default', 'temp/model', actor);
    await rejectsWith(routes.update('default', 'uses-temp', { currentVersion: 1 }, body), 'validation_failed', {
      field: 'body.currentVersion',
      message: /version 1's policy.target names no model or route/,
    });
  });

  it('refuses to read a stored policy that no longer validates', async () => {
    await routes.create('default', route('tampered', 'openai/gpt-4o'), body);
    await database.pool.query('alter table route_versions disable trigger route_versions_immutable');
    await database.pool.query(
      `update route_versions set policy = '{"strategy":"single","target":"BAD NAME"}'
        where route_id = (select id from routes where name = 'tampered')`,
    );
    await database.pool.query('alter table route_versions enable trigger route_versions_immutable');
    await rejectsWith(routes.current('default', 'tampered'), 'internal_error', {
      message: /route 'tampered@1' in PostgreSQL does not validate: route.policy.target/,
    });
    await database.pool.query("delete from routes where name = 'tampered'");
  });
});
