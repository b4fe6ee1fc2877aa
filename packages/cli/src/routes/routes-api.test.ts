// /api/routes against PostgreSQL, with the /v1 gateway on the same app reading routes through the
// cached PostgreSQL lookup: what the API writes is what /v1 runs, at once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  createDatabase,
  type Database,
  PostgresModelRepository,
  PostgresRouteLookup,
  PostgresRouteRepository,
  runMigrations,
} from '@ensemble/adapters/postgres';
import { configSchema, ModelRuntimeManager, newApiKeySchema, silentLogger } from '@ensemble/core';
import { hostedProviders } from '@ensemble/providers/hosted';
import {
  buildApp,
  createLogger,
  type EnsembleApp,
  modelsModule,
  openAiGatewayModule,
  routesModule,
} from '@ensemble/server';
import { createTestDatabase, type TestDatabase } from '@ensemble/testkit';
import {
  answerCompletion,
  type FakeOpenAiServer,
  startFakeOpenAiServer,
} from '../../../server/src/modules/openai-gateway/testing/fake-openai-server.ts';
import { systemClock } from '../runtime/system-clock.ts';
import { openTestKeys, type TestKeys } from '../testing/test-keys.ts';

describe('/api/routes against PostgreSQL, served by /v1', { timeout: 120_000 }, () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let keys: TestKeys;
  let app: EnsembleApp;
  let lookup: PostgresRouteLookup;
  let runtimes: ModelRuntimeManager;
  let a: FakeOpenAiServer;
  let b: FakeOpenAiServer;

  const call = async (
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    payload?: unknown,
    headers: Record<string, string> = keys.admin,
  ) => {
    const response = await app.inject({
      method,
      url,
      headers,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    return {
      status: response.statusCode,
      headers: response.headers,
      body: response.body === '' ? undefined : response.json(),
    };
  };
  const chat = (model: string) =>
    call('POST', '/v1/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }] });

  before(async () => {
    a = await startFakeOpenAiServer(answerCompletion('from a'));
    b = await startFakeOpenAiServer(answerCompletion('from b'));
    testDatabase = await createTestDatabase('routes_api');
    database = createDatabase({ url: testDatabase.url });
    await runMigrations(database);
    keys = await openTestKeys(database);
    const models = new PostgresModelRepository(database.db);
    const routes = new PostgresRouteRepository(database.db);
    lookup = new PostgresRouteLookup({ database, routes });
    await lookup.start();
    runtimes = new ModelRuntimeManager({
      providers: new Map(hostedProviders.map((provider) => [provider.id, provider])),
      models,
      revealCredential: async (_projectId, name) => {
        throw new Error(`no credential ${name} in this test`);
      },
      clock: systemClock,
      logger: silentLogger,
      healthIntervalMs: 0,
    });
    app = await buildApp({
      config: configSchema.parse({ log: { level: 'silent' } }),
      logger: createLogger({ level: 'silent' }),
      authenticator: keys.store,
      checks: [],
      modules: [
        modelsModule(models),
        routesModule(routes),
        openAiGatewayModule({ runtimes, models, routes: lookup, cache: { ttlMs: 0 }, modelCacheTtlMs: 0 }),
      ],
    });
    for (const [name, server] of [
      ['m/a', a],
      ['m/b', b],
    ] as const) {
      const registered = await call('POST', '/api/models', {
        name,
        kind: 'chat',
        provider: 'openai-compatible',
        providerModelId: 'upstream-model',
        baseUrl: server.baseUrl,
        aliases: ['production'],
      });
      assert.equal(registered.status, 201, JSON.stringify(registered.body));
    }
  });

  after(async () => {
    await app?.close();
    await runtimes?.close();
    await lookup?.close();
    await keys?.store.close();
    await database?.close();
    await testDatabase?.drop();
    await a?.close();
    await b?.close();
  });

  it('creates a route that /v1 serves at once, and reads it back with its versions', async () => {
    assert.equal((await chat('team/chat')).status, 404, 'no such model or route yet (and that answer is cached)');
    const created = await call('POST', '/api/routes', {
      name: 'team/chat',
      description: 'the chat route',
      policy: { strategy: 'fallback', targets: ['m/a', 'm/b:production'] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.currentVersion, 1);
    assert.equal(created.body.status, 'active');
    assert.equal(created.body.projectId, 'default');
    assert.deepEqual(created.body.current.targets, ['m/a', 'm/b:production']);
    assert.deepEqual(created.body.current.policy.targets[0], { strategy: 'single', target: 'm/a' });
    assert.equal(created.body.current.createdBy, keys.adminKeyId);

    const served = await chat('team/chat');
    assert.equal(served.status, 200, JSON.stringify(served.body));
    assert.equal(served.headers['x-ensemble-route'], 'team/chat@1');
    assert.equal(served.headers['x-ensemble-target'], 'm/a@1');

    const raw = await call('GET', '/api/routes/team/chat');
    assert.equal(raw.status, 200);
    assert.deepEqual(
      raw.body.versions.map((each: { version: number }) => each.version),
      [1],
    );
    const encoded = await call('GET', '/api/routes/team%2Fchat');
    assert.deepEqual(encoded.body, raw.body);

    const listed = await call('GET', '/v1/models');
    assert.ok(
      listed.body.data.some(
        (model: { id: string; owned_by: string }) => model.id === 'team/chat' && model.owned_by === 'ensemble-route',
      ),
    );
  });

  it('answers bad input with 400s naming the field, unknown names with 404, taken names with 409', async () => {
    const cases: Array<[unknown, string, RegExp]> = [
      [
        { name: 'r', policy: { strategy: 'fallback', targets: ['m/a', 'Not A Name'] } },
        'body.policy.targets[1].target',
        /must be a model or route name/,
      ],
      [
        { name: 'r', policy: { strategy: 'fallback', targets: ['m/a', 'm/typo'] } },
        'body.policy.targets[1].target',
        /names no model or route of project 'default': 'm\/typo'/,
      ],
      [
        { name: 'r', policy: { strategy: 'sideways', targets: ['m/a'] } },
        'body.policy.strategy',
        /strategy 'single', 'fallback'/,
      ],
      [{ name: 'r', policy: 'm/a@9' }, 'body.policy.target', /model 'm\/a' has no version 9/],
      [{ name: 'r', policy: 'm/a', extra: 1 }, 'body.extra', /unknown field/],
      [{ name: 'R!', policy: 'm/a' }, 'body.name', /lowercase/],
      [{ name: 'r' }, 'body.policy', /.+/],
    ];
    for (const [payload, param, message] of cases) {
      const response = await call('POST', '/api/routes', payload);
      assert.equal(response.status, 400, JSON.stringify(response.body));
      assert.equal(response.body.error.code, 'validation_failed');
      assert.equal(response.body.error.param, param, JSON.stringify(response.body));
      assert.match(response.body.error.message, message);
    }
    let deep: unknown = 'm/a';
    for (let level = 0; level < 200; level += 1) deep = { strategy: 'fallback', targets: [deep] };
    const tooDeep = await call('POST', '/api/routes', { name: 'r', policy: deep });
    assert.equal(tooDeep.status, 400);
    assert.match(tooDeep.body.error.message, /nests deeper than 8 levels/);

    const taken = await call('POST', '/api/routes', { name: 'team/chat', policy: 'm/a' });
    assert.equal(taken.status, 409);
    const modelName = await call('POST', '/api/routes', { name: 'm/a', policy: 'm/b' });
    assert.equal(modelName.status, 409);
    assert.match(modelName.body.error.message, /a model named 'm\/a' exists/);

    assert.equal((await call('GET', '/api/routes/nothing')).status, 404);
    assert.equal((await call('GET', '/api/routes/nothing/versions')).status, 404);
    assert.equal((await call('GET', '/api/routes/team/chat/versions/7')).status, 404);
    assert.equal((await call('POST', '/api/routes/nothing/versions', { policy: 'm/a' })).status, 404);
    const versioned = await call('GET', '/api/routes/team/chat@1');
    assert.equal(versioned.status, 400);
    assert.equal(versioned.body.error.param, 'params.name');
    assert.equal((await call('GET', '/api/routes?project=other')).status, 400);
  });

  it('adds versions that /v1 runs at once, rolls back with PATCH, and pages versions', async () => {
    const second = await call('POST', '/api/routes/team/chat/versions', { policy: 'm/b' });
    assert.equal(second.status, 201, JSON.stringify(second.body));
    assert.equal(second.body.currentVersion, 2);
    assert.equal(second.body.current.description, 'the chat route');
    const served = await chat('team/chat');
    assert.equal(served.headers['x-ensemble-route'], 'team/chat@2');
    assert.equal(served.headers['x-ensemble-target'], 'm/b@1');

    const bad = await call('POST', '/api/routes/team/chat/versions', {
      policy: { strategy: 'loadbalance', targets: ['m/a', { strategy: 'single', target: 'm/none', weight: 2 }] },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.param, 'body.policy.targets[1].target');

    const page = await call('GET', '/api/routes/team/chat/versions?limit=1');
    assert.deepEqual(
      page.body.data.map((each: { version: number }) => each.version),
      [2],
    );
    const rest = await call('GET', `/api/routes/team/chat/versions?limit=1&after=${page.body.nextCursor}`);
    assert.deepEqual(
      rest.body.data.map((each: { version: number }) => each.version),
      [1],
    );
    assert.equal(rest.body.nextCursor, null);
    const first = await call('GET', '/api/routes/team/chat/versions/1');
    assert.deepEqual(first.body.targets, ['m/a', 'm/b:production']);

    const rollback = await call('PATCH', '/api/routes/team/chat', { currentVersion: 1, expectedCurrentVersion: 2 });
    assert.equal(rollback.status, 200, JSON.stringify(rollback.body));
    assert.equal(rollback.body.currentVersion, 1);
    assert.equal(rollback.body.latestVersion, 2);
    assert.equal((await chat('team/chat')).headers['x-ensemble-route'], 'team/chat@1');
    const stale = await call('PATCH', '/api/routes/team/chat', { currentVersion: 2, expectedCurrentVersion: 2 });
    assert.equal(stale.status, 409);
    assert.equal(stale.body.error.param, 'body.expectedCurrentVersion');
    assert.equal((await call('PATCH', '/api/routes/team/chat', {})).status, 400);
  });

  it('lists with filters and cursors, and retires or deletes routes nothing else targets', async () => {
    assert.equal((await call('POST', '/api/routes', { name: 'outer', policy: 'team/chat' })).status, 201);
    assert.equal((await call('POST', '/api/routes', { name: 'spare', policy: 'm/b' })).status, 201);

    const first = await call('GET', '/api/routes?limit=2');
    assert.deepEqual(
      first.body.data.map((each: { name: string }) => each.name),
      ['outer', 'spare'],
    );
    const next = await call('GET', `/api/routes?limit=2&after=${first.body.nextCursor}`);
    assert.deepEqual(
      next.body.data.map((each: { name: string }) => each.name),
      ['team/chat'],
    );
    const usingB = await call('GET', '/api/routes?target=m/b');
    assert.deepEqual(
      usingB.body.data.map((each: { name: string }) => each.name),
      ['spare', 'team/chat'],
    );

    const refused = await call('DELETE', '/api/routes/team/chat');
    assert.equal(refused.status, 409);
    assert.match(refused.body.error.message, /'outer' target it/);
    const retired = await call('DELETE', '/api/routes/outer');
    assert.equal(retired.status, 200);
    assert.equal(retired.body.status, 'retired');
    const gone = await chat('outer');
    assert.equal(gone.status, 404, 'a retired route is not served');
    assert.equal(gone.body.error.code, 'model_not_found');
    assert.deepEqual(
      (await call('GET', '/api/routes?status=retired')).body.data.map((each: { name: string }) => each.name),
      ['outer'],
    );
    assert.equal((await call('POST', '/api/routes/outer/versions', { policy: 'm/a' })).status, 409);
    assert.equal((await call('PATCH', '/api/routes/outer', { status: 'active' })).status, 200);
    const back = await chat('outer');
    assert.equal(back.headers['x-ensemble-target'], 'm/a@1', JSON.stringify([back.headers, back.body]));
    assert.equal((await call('DELETE', '/api/routes/outer?purge=true')).status, 204);
    assert.equal((await call('GET', '/api/routes/outer')).status, 404);
  });

  it('lets a key limited to some models read routes but not change them', async () => {
    const { secret } = await keys.store.create(
      'default',
      newApiKeySchema.parse({ name: 'limited', allowedModels: ['spare'] }),
    );
    const limited = { authorization: `Bearer ${secret}` };
    assert.equal((await call('GET', '/api/routes', undefined, limited)).status, 200);
    const write = await call('POST', '/api/routes/spare/versions', { policy: 'm/a' }, limited);
    assert.equal(write.status, 403);
    assert.equal((await call('DELETE', '/api/routes/spare', undefined, limited)).status, 403);
  });
});
