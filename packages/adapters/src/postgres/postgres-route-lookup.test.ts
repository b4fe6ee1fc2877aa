import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newRouteSchema, newRouteVersionSchema, registerModelSchema } from '@ensemble/core';
import { createTestDatabase, type TestDatabase, waitFor } from '@ensemble/testkit';
import { createDatabase, type Database } from './create-database.ts';
import { runMigrations } from './migration-runner.ts';
import { PostgresModelRepository } from './postgres-model-repository.ts';
import { PostgresRouteLookup } from './postgres-route-lookup.ts';
import { PostgresRouteRepository } from './postgres-route-repository.ts';

const actor = { actor: 'test' };

interface Instance {
  database: Database;
  routes: PostgresRouteRepository;
  lookup: PostgresRouteLookup;
}

describe('PostgresRouteLookup on two instances', { timeout: 120_000 }, () => {
  let testDatabase: TestDatabase;
  let a: Instance;
  let b: Instance;

  const open = async (): Promise<Instance> => {
    const database = createDatabase({ url: testDatabase.url });
    const routes = new PostgresRouteRepository(database.db);
    // A long TTL: anything seen sooner arrived by invalidation, not by expiry.
    const lookup = new PostgresRouteLookup({ database, routes, ttlMs: 600_000, maxRetryMs: 200 });
    await lookup.start();
    return { database, routes, lookup };
  };

  before(async () => {
    testDatabase = await createTestDatabase('route_lookup');
    const setup = createDatabase({ url: testDatabase.url });
    await runMigrations(setup);
    const models = new PostgresModelRepository(setup.db);
    for (const name of ['openai/gpt-4o', 'openai/gpt-4o-mini']) {
      await models.register(
        registerModelSchema.parse({ name, kind: 'chat', provider: 'openai', providerModelId: name }),
        actor,
      );
    }
    await setup.close();
    a = await open();
    b = await open();
  });

  after(async () => {
    for (const instance of [a, b]) {
      await instance?.lookup.close();
      await instance?.database.close();
    }
    await testDatabase?.drop();
  });

  it('sees a change at once on the instance that made it, and by NOTIFY on the other', async () => {
    assert.ok(a.lookup.listening && b.lookup.listening);
    assert.equal(await a.lookup.current('default', 'chat'), undefined);
    assert.equal(await b.lookup.current('default', 'chat'), undefined);
    assert.deepEqual(await b.lookup.list('default'), []);

    await a.routes.create('default', newRouteSchema.parse({ name: 'chat', policy: 'openai/gpt-4o' }), actor);
    assert.equal((await a.lookup.current('default', 'chat'))?.version, 1, 'no wait on this instance');
    await waitFor(
      'the other instance sees the route',
      async () => (await b.lookup.current('default', 'chat'))?.version === 1,
      {
        timeoutMs: 5_000,
      },
    );
    assert.deepEqual(
      (await b.lookup.list('default')).map((route) => route.name),
      ['chat'],
    );

    await a.routes.addVersion('default', 'chat', newRouteVersionSchema.parse({ policy: 'openai/gpt-4o-mini' }), actor);
    assert.equal((await a.lookup.current('default', 'chat'))?.version, 2);
    await waitFor('version 2 elsewhere', async () => (await b.lookup.current('default', 'chat'))?.version === 2, {
      timeoutMs: 5_000,
    });

    // A nested route's change reaches the routes around it too: the whole project is dropped.
    await a.routes.create('default', newRouteSchema.parse({ name: 'outer', policy: 'chat' }), actor);
    const outer = await waitFor('outer elsewhere', () => b.lookup.current('default', 'outer'), { timeoutMs: 5_000 });
    await a.routes.update('default', 'chat', { currentVersion: 1 }, actor);
    await waitFor(
      'a fresh outer after its nested route moved',
      async () => (await b.lookup.current('default', 'outer')) !== outer,
      {
        timeoutMs: 5_000,
      },
    );
  });

  it('starts from nothing after losing its listening connection, and listens again', async () => {
    await b.lookup.current('default', 'chat');
    await b.database.pool.query(
      "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'ensemble-route-lookup' and datname = current_database()",
    );
    // Both instances lost their listeners; a change made meanwhile must not be missed.
    await a.routes.update('default', 'chat', { currentVersion: 2 }, actor);
    await waitFor('listening again', () => a.lookup.listening && b.lookup.listening, { timeoutMs: 10_000 });
    await waitFor(
      'the change made while not listening',
      async () => (await b.lookup.current('default', 'chat'))?.version === 2,
      {
        timeoutMs: 5_000,
      },
    );
    await a.routes.update('default', 'chat', { currentVersion: 1 }, actor);
    await waitFor('notifications flow again', async () => (await b.lookup.current('default', 'chat'))?.version === 1, {
      timeoutMs: 5_000,
    });
  });
});
