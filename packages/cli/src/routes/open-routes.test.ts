import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createDatabase, type Database, runMigrations } from '@ensemble/adapters/postgres';
import { type EnsembleConfig, EnsembleError, parseConfig, silentLogger } from '@ensemble/core';
import { createTestDatabase, type TestDatabase } from '@ensemble/testkit';
import { openRegistry } from '../registry/open-registry.ts';
import { openRoutes, type Routes } from './open-routes.ts';

const key = Buffer.alloc(32, 7).toString('base64');

function configWith(file: Record<string, unknown>): EnsembleConfig {
  return parseConfig({ env: { ENSEMBLE_MASTER_KEY: key }, file: { path: 'ensemble.yaml', content: file } });
}

const models = [
  { name: 'openai/gpt-4o', kind: 'chat', provider: 'openai', providerModelId: 'gpt-4o', aliases: ['production'] },
  { name: 'openai/gpt-4o-mini', kind: 'chat', provider: 'openai', providerModelId: 'gpt-4o-mini' },
];

/** Declared out of order on purpose: `smart` targets `cheap`, which comes after it. */
const declared = (smart: unknown = { strategy: 'fallback', targets: ['openai/gpt-4o:production', 'cheap'] }) => ({
  models,
  routes: [
    { name: 'smart', description: 'best first', policy: smart },
    { name: 'cheap', policy: 'openai/gpt-4o-mini' },
  ],
});

function configError(error: unknown, message: RegExp): true {
  assert.ok(EnsembleError.isInstance(error), String(error));
  assert.equal(error.code, 'config_invalid', error.message);
  assert.match(error.message, message);
  return true;
}

describe('ensemble.yaml routes', { timeout: 120_000 }, () => {
  let testDatabase: TestDatabase;
  let database: Database;
  const opened: Routes[] = [];

  before(async () => {
    testDatabase = await createTestDatabase('reconcile_routes');
    database = createDatabase({ url: testDatabase.url });
    await runMigrations(database);
  });

  after(async () => {
    for (const routes of opened) await routes.close();
    await database?.close();
    await testDatabase?.drop();
  });

  /** A start-up: the models, then the routes, from the same file. */
  const start = async (file: Record<string, unknown>) => {
    const config = configWith(file);
    await openRegistry({ config, database, logger: silentLogger, env: {}, production: true });
    const routes = await openRoutes({ config, database, logger: silentLogger });
    opened.push(routes);
    return routes;
  };

  it('creates the declared routes (targets first), then changes nothing on a restart', async () => {
    const first = await start(declared());
    assert.deepEqual(
      first.report.routes.map((r) => [r.name, r.outcome, r.version]),
      [
        ['cheap', 'created', 1],
        ['smart', 'created', 1],
      ],
    );
    const smart = await first.lookup.current('default', 'smart');
    assert.equal(smart?.description, 'best first');
    assert.equal(smart?.policy.strategy, 'fallback');
    assert.equal((await first.repository.get('default', 'smart')).current.createdBy, 'ensemble.yaml');

    const again = await start(declared());
    assert.ok(again.report.routes.every((r) => r.outcome === 'unchanged' && r.version === 1));
    assert.equal((await again.repository.listVersions('default', 'smart', { limit: 10 })).items.length, 1);
  });

  it('adds a version when the policy changed, written in any order or shorthand', async () => {
    const changed = await start(declared({ targets: ['cheap', 'openai/gpt-4o:production'], strategy: 'fallback' }));
    assert.deepEqual(
      changed.report.routes.map((r) => [r.name, r.outcome, r.version]),
      [
        ['cheap', 'unchanged', 1],
        ['smart', 'versioned', 2],
      ],
    );
    assert.equal((await changed.lookup.current('default', 'smart'))?.version, 2);
    // Same policy with its keys reordered and defaults spelled out: nothing to do.
    const same = await start(
      declared({
        strategy: 'fallback',
        targets: [
          { target: 'cheap', strategy: 'single' },
          { strategy: 'single', target: 'openai/gpt-4o:production' },
        ],
      }),
    );
    assert.ok(same.report.routes.every((r) => r.outcome === 'unchanged'));
  });

  it('keeps a version moved back through the API until the file changes', async () => {
    const routes = await start(declared({ strategy: 'fallback', targets: ['cheap', 'openai/gpt-4o:production'] }));
    await routes.repository.update('default', 'smart', { currentVersion: 1 }, { actor: 'test' });
    const restarted = await start(declared({ strategy: 'fallback', targets: ['cheap', 'openai/gpt-4o:production'] }));
    assert.deepEqual(
      restarted.report.routes.find((r) => r.name === 'smart'),
      { name: 'smart', projectId: 'default', outcome: 'unchanged', version: 1 },
    );
    assert.equal((await restarted.lookup.current('default', 'smart'))?.version, 1);
    const edited = await start(declared('openai/gpt-4o'));
    assert.deepEqual(edited.report.routes.find((r) => r.name === 'smart')?.version, 3);
  });

  it('retires with retire: true, once', async () => {
    const base = declared('openai/gpt-4o');
    const file = { ...base, routes: [{ ...base.routes[0], retire: true }, base.routes[1]] };
    const retired = await start(file);
    assert.equal(retired.report.routes.find((r) => r.name === 'smart')?.outcome, 'retired');
    assert.equal(await retired.lookup.current('default', 'smart'), undefined);
    const again = await start(file);
    assert.equal(again.report.routes.find((r) => r.name === 'smart')?.outcome, 'unchanged');
  });

  it('stops start-up with errors that name the place in the file', async () => {
    await assert.rejects(
      start({
        models,
        routes: [{ name: 'typo', policy: { strategy: 'fallback', targets: ['cheap', 'openai/gpt-4'] } }],
      }),
      (error) =>
        configError(
          error,
          /^ensemble\.yaml: routes\[0\]\.policy\.targets\[1\]\.target: names no model or route of project 'default': 'openai\/gpt-4'$/,
        ),
    );
    assert.throws(
      () => configWith({ routes: [{ name: 'bad', policy: { strategy: 'fallback', targets: ['a', 'Not Valid'] } }] }),
      (error) =>
        configError(error, /ensemble\.yaml: routes\[0\]\.policy\.targets\[1\]\.target: must be a model or route name/),
    );
    await assert.rejects(
      start({ models, routes: [{ name: 'openai/gpt-4o-mini', policy: 'openai/gpt-4o' }] }),
      (error) => configError(error, /^ensemble\.yaml: routes\[0\]\.name: a model named 'openai\/gpt-4o-mini' exists/),
    );
    await assert.rejects(
      start({
        models,
        routes: [
          { name: 'x', policy: 'y' },
          { name: 'y', policy: { strategy: 'fallback', targets: ['openai/gpt-4o', 'x'] } },
        ],
      }),
      (error) => configError(error, /routes form a loop \(x → y → x\)/),
    );
  });
});
