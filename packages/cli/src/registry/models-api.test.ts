import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createDatabase, type Database, PostgresModelRepository, runMigrations } from '@ensemble/adapters/postgres';
import { configSchema, newApiKeySchema } from '@ensemble/core';
import { buildApp, createLogger, type EnsembleApp, modelsModule } from '@ensemble/server';
import { createTestDatabase, type TestDatabase } from '@ensemble/testkit';
import { openTestKeys, type TestKeys } from '../testing/test-keys.ts';

const gpt = {
  name: 'openai/gpt-4o-mini',
  kind: 'chat',
  provider: 'openai',
  providerModelId: 'gpt-4o-mini',
  credential: 'openai',
  capabilities: { streaming: true, tools: true, contextWindow: 128000 },
  pricing: { inputPerMillionTokens: 0.15, outputPerMillionTokens: 0.6 },
  tags: ['hosted'],
};

describe('/api/models against PostgreSQL', { timeout: 120_000 }, () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let keys: TestKeys;
  let app: EnsembleApp;

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
    return { status: response.statusCode, body: response.body === '' ? undefined : response.json() };
  };

  before(async () => {
    testDatabase = await createTestDatabase('models_api');
    database = createDatabase({ url: testDatabase.url });
    await runMigrations(database);
    keys = await openTestKeys(database);
    app = await buildApp({
      config: configSchema.parse({ log: { level: 'silent' } }),
      logger: createLogger({ level: 'silent' }),
      authenticator: keys.store,
      checks: [],
      modules: [modelsModule(new PostgresModelRepository(database.db))],
    });
  });

  after(async () => {
    await app?.close();
    await keys?.store.close();
    await database?.close();
    await testDatabase?.drop();
  });

  it('registers and reads a model by its raw name, its encoded name, and refs', async () => {
    const created = await call('POST', '/api/models', gpt);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.version, 1);
    assert.equal(created.body.status, 'registered');
    assert.equal(created.body.projectId, 'default');

    const raw = await call('GET', '/api/models/openai/gpt-4o-mini');
    assert.equal(raw.status, 200);
    assert.deepEqual(raw.body.capabilities, gpt.capabilities);
    const encoded = await call('GET', '/api/models/openai%2Fgpt-4o-mini');
    assert.deepEqual(encoded.body, raw.body);
    assert.equal((await call('GET', '/api/models/openai/gpt-4o-mini@1')).body.version, 1);

    assert.equal((await call('POST', '/api/models', gpt)).status, 409);
    const missing = await call('GET', '/api/models/openai/unknown');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'not_found');
    const elsewhere = { ...keys.admin, 'x-ensemble-project': 'nope' };
    assert.equal((await call('GET', '/api/models/openai/gpt-4o-mini', undefined, elsewhere)).status, 404);
    const leftover = await call('GET', '/api/models/openai/gpt-4o-mini?project=default');
    assert.equal(leftover.status, 400, 'a project in the query is refused, not ignored');
    assert.equal(leftover.body.error.param, 'querystring.project');
  });

  it('validates everything and names the field', async () => {
    const bad = await call('POST', '/api/models', {
      ...gpt,
      name: 'OpenAI/GPT',
      pricing: { inputPerMillionTokens: -1 },
    });
    assert.equal(bad.status, 400);
    const params = bad.body.error.details.issues.map((issue: { param: string }) => issue.param).sort();
    assert.deepEqual(params, [
      'body.name',
      'body.pricing.inputPerMillionTokens',
      'body.pricing.outputPerMillionTokens',
    ]);
    const unknown = await call('POST', '/api/models', { ...gpt, name: 'x/y', colour: 'red' });
    assert.equal(unknown.body.error.param, 'body.colour');
    const badName = await call('GET', '/api/models/Bad%20Name');
    assert.equal(badName.status, 400);
    assert.equal(badName.body.error.param, 'params.name');
    const badQuery = await call('GET', '/api/models?limit=0&status=sleeping');
    assert.equal(badQuery.status, 400);
    assert.equal(badQuery.body.error.details.issues.length, 2);
    const badCursor = await call('GET', '/api/models?after=nonsense');
    assert.equal(badCursor.body.error.param, 'querystring.after');
    const specInPatch = await call('PATCH', '/api/models/openai/gpt-4o-mini', { provider: 'anthropic' });
    assert.equal(specInPatch.body.error.param, 'body.provider');
    const refInWrite = await call('PATCH', '/api/models/openai/gpt-4o-mini@1', { description: 'x' });
    assert.equal(refInWrite.body.error.param, 'params.name');
  });

  it('creates versions from partial specs and serves them', async () => {
    const v2 = await call('POST', '/api/models/openai/gpt-4o-mini/versions', {
      parameters: { temperature: 0 },
      aliases: ['staging'],
    });
    assert.equal(v2.status, 201, JSON.stringify(v2.body));
    assert.equal(v2.body.version, 2);
    assert.equal(v2.body.providerModelId, 'gpt-4o-mini');
    assert.deepEqual(v2.body.parameters, { temperature: 0 });
    const list = await call('GET', '/api/models/openai/gpt-4o-mini/versions?limit=1');
    assert.deepEqual(
      list.body.data.map((v: { version: number }) => v.version),
      [2],
    );
    assert.equal(list.body.nextCursor, '2');
    const older = await call('GET', `/api/models/openai/gpt-4o-mini/versions?after=${list.body.nextCursor}`);
    assert.deepEqual(
      older.body.data.map((v: { version: number }) => v.version),
      [1],
    );
    assert.equal((await call('GET', '/api/models/openai/gpt-4o-mini/versions/2')).body.version, 2);
    assert.equal((await call('GET', '/api/models/openai/gpt-4o-mini/versions/9')).status, 404);
    const badFrom = await call('POST', '/api/models/openai/gpt-4o-mini/versions', { from: 7 });
    assert.equal(badFrom.status, 404);
    assert.equal(badFrom.body.error.param, 'body.from');
  });

  it('moves aliases atomically, with compare-and-set and history', async () => {
    const base = '/api/models/openai/gpt-4o-mini/aliases';
    const moved = await call('PUT', `${base}/production`, { version: 1, expectedVersion: null });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.equal((await call('GET', '/api/models/openai/gpt-4o-mini:production')).body.version, 1);
    const stale = await call('PUT', `${base}/production`, { version: 2, expectedVersion: 2 });
    assert.equal(stale.status, 409);
    assert.equal((await call('PUT', `${base}/production`, { version: 2, expectedVersion: 1 })).status, 200);
    assert.equal((await call('PUT', `${base}/production`, { version: 5 })).status, 404);
    assert.equal((await call('PUT', `${base}/Prod`, { version: 1 })).body.error.param, 'params.alias');

    const listed = await call('GET', base);
    assert.deepEqual(
      listed.body.data.map((a: { alias: string; version: number }) => [a.alias, a.version]),
      [
        ['production', 2],
        ['staging', 2],
      ],
    );
    const replaced = await call('PUT', base, { production: 1, latest: 1 });
    assert.deepEqual(
      replaced.body.data.map((a: { alias: string }) => a.alias),
      ['latest', 'production'],
    );
    // `latest` now holds the bare name back at version 1.
    const pinned = await call('GET', '/api/models/openai/gpt-4o-mini');
    assert.equal(pinned.body.version, 1);
    assert.equal(pinned.body.latestVersion, 2);
    assert.equal((await call('PUT', base, { production: 'two' })).status, 400);

    const history = await call('GET', `${base}/production/history`);
    assert.deepEqual(
      history.body.data.map((h: { fromVersion: number | null; toVersion: number | null }) => [
        h.fromVersion,
        h.toVersion,
      ]),
      [
        [2, 1],
        [1, 2],
        [null, 1],
      ],
    );
    assert.equal((await call('DELETE', `${base}/latest`)).status, 204);
    assert.equal((await call('DELETE', `${base}/latest`)).status, 404);
    assert.equal((await call('GET', `${base}/never/history`)).status, 404);
  });

  it('lists with filters and cursors, patches, retires and purges', async () => {
    for (const [name, kind, provider] of [
      ['local/minilm', 'embedding', 'local'],
      ['local/lid', 'classifier', 'local'],
      ['together/meta-llama/llama-3-8b', 'chat', 'openai-compatible'],
    ] as const) {
      const created = await call('POST', '/api/models', {
        name,
        kind,
        provider,
        providerModelId: name,
        tags: ['builtin'],
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
    }
    // Three segments work raw in the URL too.
    assert.equal((await call('GET', '/api/models/together/meta-llama/llama-3-8b')).status, 200);
    assert.equal((await call('GET', '/api/models/together/meta-llama/llama-3-8b/versions')).body.data.length, 1);

    const names: string[] = [];
    let url = '/api/models?limit=2';
    for (;;) {
      const page = await call('GET', url);
      names.push(...page.body.data.map((m: { name: string }) => m.name));
      if (page.body.nextCursor === null) break;
      url = `/api/models?limit=2&after=${page.body.nextCursor}`;
    }
    assert.deepEqual(names, ['local/lid', 'local/minilm', 'openai/gpt-4o-mini', 'together/meta-llama/llama-3-8b']);
    const only = async (query: string) =>
      (await call('GET', `/api/models?${query}`)).body.data.map((m: { name: string }) => m.name);
    assert.deepEqual(await only('provider=local'), ['local/lid', 'local/minilm']);
    assert.deepEqual(await only('kind=embedding'), ['local/minilm']);
    assert.deepEqual(await only('tag=builtin&kind=classifier'), ['local/lid']);
    assert.deepEqual(await only('status=registered&provider=openai'), ['openai/gpt-4o-mini']);

    const patched = await call('PATCH', '/api/models/local/minilm', { description: 'MiniLM', status: 'ready' });
    assert.equal(patched.body.description, 'MiniLM');
    assert.deepEqual(await only('status=ready'), ['local/minilm']);
    // Every status change is kept: the model's health history (newest first), for a raw multi-segment name too.
    await call('PATCH', '/api/models/local/minilm', { status: 'failed' });
    const history = await call('GET', '/api/models/local/minilm/history?limit=5');
    assert.equal(history.status, 200, JSON.stringify(history.body));
    assert.deepEqual(
      history.body.data.map((change: { from: string; to: string }) => [change.from, change.to]),
      [
        ['ready', 'failed'],
        ['registered', 'ready'],
      ],
    );
    assert.equal(typeof history.body.data[0].actor, 'string');
    assert.equal((await call('GET', '/api/models/together/meta-llama/llama-3-8b/history')).body.data.length, 0);
    assert.equal((await call('GET', '/api/models/local/nope/history')).status, 404);
    assert.equal((await call('GET', '/api/models/local/minilm/history?limit=0')).status, 400);

    const retired = await call('DELETE', '/api/models/local/lid');
    assert.equal(retired.status, 200);
    assert.equal(retired.body.status, 'retired');
    assert.equal((await call('POST', '/api/models/local/lid/versions', {})).status, 409);
    assert.equal((await call('DELETE', '/api/models/local/lid?purge=true')).status, 204);
    assert.equal((await call('GET', '/api/models/local/lid')).status, 404);
    assert.equal((await call('DELETE', '/api/models/local/lid')).status, 404);
  });

  it('documents the routes in OpenAPI once, with components', async () => {
    const document = (await call('GET', '/openapi.json')).body;
    const paths = Object.keys(document.paths).filter((path) => path.startsWith('/api/models'));
    assert.ok(paths.includes('/api/models/{name}/aliases/{alias}/history'), paths.join(', '));
    assert.ok(paths.includes('/api/models/{name}/history'), paths.join(', '));
    assert.ok(!paths.some((path) => path.includes('name2')));
    for (const id of ['Model', 'ModelVersion', 'NewModel', 'ModelList', 'AliasMove']) {
      assert.ok(document.components.schemas[id], id);
    }
  });

  it("keeps each project's models to itself: the key's project, or an admin key's x-ensemble-project", async () => {
    await database.pool.query(`insert into projects (id, name) values ('team-a', 'Team A')`);
    const teamAdmin = { ...keys.admin, 'x-ensemble-project': 'team-a' };
    const registered = await call('POST', '/api/models', { ...gpt, name: 'team/private' }, teamAdmin);
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    assert.equal(registered.body.projectId, 'team-a');
    assert.equal(registered.body.createdBy, keys.adminKeyId, 'the change is attributed to the key');

    const { secret } = await keys.store.create('team-a', newApiKeySchema.parse({ name: 'team member' }));
    const member = { authorization: `Bearer ${secret}` };
    const teamNames = (await call('GET', '/api/models', undefined, member)).body.data.map(
      (m: { name: string }) => m.name,
    );
    assert.deepEqual(teamNames, ['team/private']);
    assert.equal((await call('GET', '/api/models/team/private')).status, 404, 'not in the default project');
    assert.equal(
      (await call('GET', '/api/models', undefined, { ...member, 'x-ensemble-project': 'default' })).status,
      404,
    );

    const withProject = await call('POST', '/api/models', { ...gpt, name: 'team/other', projectId: 'default' }, member);
    assert.equal(withProject.status, 400, 'the body names no project');
    assert.equal(withProject.body.error.param, 'body.projectId');
  });
});
