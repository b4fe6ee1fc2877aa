import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '@ensemble/testkit';
import { stringify } from 'yaml';
import { spawnEnsemble } from './testing/ensemble-process.ts';

const models = [
  { name: 'openai/gpt-4o', kind: 'chat', provider: 'openai', providerModelId: 'gpt-4o', aliases: ['production'] },
  { name: 'openai/gpt-4o-mini', kind: 'chat', provider: 'openai', providerModelId: 'gpt-4o-mini' },
];

interface RouteJson {
  name: string;
  currentVersion: number;
  current: { targets: string[]; createdBy: string };
}

// `ensemble start` with routes in ensemble.yaml, the way a user writes them.
describe('ensemble start with routes in ensemble.yaml', { timeout: 300_000 }, () => {
  let database: TestDatabase;
  let dir: string;
  let env: Record<string, string>;

  before(async () => {
    database = await createTestDatabase('cli_routes');
    dir = await mkdtemp(join(tmpdir(), 'ensemble-routes-'));
    env = { DATABASE_URL: database.url, ENSEMBLE_HOME: join(dir, 'home') };
  });
  after(async () => {
    await database?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  const startWith = async (routes: unknown[]) => {
    const file = join(dir, 'ensemble.yaml');
    await writeFile(file, stringify({ models, routes }));
    return spawnEnsemble(['start', '--no-worker', '--config', file], env);
  };

  const get = async (url: string, auth: Record<string, string>) => {
    const response = await fetch(url, { headers: auth });
    return { status: response.status, body: (await response.json()) as { data: RouteJson[] } & RouteJson };
  };

  it('serves the declared routes in /api/routes and /v1/models, and versions them only when they change', async () => {
    const routes = [
      { name: 'smart', policy: { strategy: 'fallback', targets: ['openai/gpt-4o:production', 'cheap'] } },
      { name: 'cheap', policy: 'openai/gpt-4o-mini' },
    ];
    const first = await startWith(routes);
    try {
      const listed = await get(`${first.url}/api/routes`, first.auth);
      assert.equal(listed.status, 200);
      assert.deepEqual(
        listed.body.data.map((route) => [route.name, route.currentVersion, route.current.createdBy]),
        [
          ['cheap', 1, 'ensemble.yaml'],
          ['smart', 1, 'ensemble.yaml'],
        ],
      );
      const v1 = await get(`${first.url}/v1/models`, first.auth);
      const ids = (v1.body.data as unknown as Array<{ id: string; owned_by: string }>)
        .filter((model) => model.owned_by === 'ensemble-route')
        .map((model) => model.id);
      assert.deepEqual(ids.sort(), ['cheap', 'smart']);
    } finally {
      assert.equal(await first.stop(), 0, first.output());
    }

    const same = await startWith(routes);
    try {
      const smart = await get(`${same.url}/api/routes/smart`, same.auth);
      assert.equal(smart.body.currentVersion, 1, 'a restart with the same file changes nothing');
    } finally {
      assert.equal(await same.stop(), 0, same.output());
    }

    const changed = await startWith([{ ...routes[0], policy: 'openai/gpt-4o' }, routes[1]]);
    try {
      const smart = await get(`${changed.url}/api/routes/smart`, changed.auth);
      assert.equal(smart.body.currentVersion, 2);
      assert.deepEqual(smart.body.current.targets, ['openai/gpt-4o']);
      assert.equal((await get(`${changed.url}/api/routes/cheap`, changed.auth)).body.currentVersion, 1);
    } finally {
      assert.equal(await changed.stop(), 0, changed.output());
    }
  });

  it('refuses to start on a route whose target does not exist, naming it in the file', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(
      file,
      stringify({
        models,
        routes: [{ name: 'typo', policy: { strategy: 'fallback', targets: ['openai/gpt-4o', 'openai/gpt4'] } }],
      }),
    );
    const ensemble = await spawnEnsemble(['start', '--no-worker', '--config', file], env, { waitForListening: false });
    const code = await ensemble.exited;
    assert.notEqual(code, 0);
    assert.match(
      ensemble.output(),
      /ensemble\.yaml: routes\[0\]\.policy\.targets\[1\]\.target: names no model or route of project 'default': 'openai\/gpt4'/,
    );
  });
});
