import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type BusMessage, createEvent, EnsembleError, type PublishRecord } from '@ensemble/core';
import { waitFor } from '@ensemble/testkit';
import { EmbeddedEventBus } from '../embedded/embedded-event-bus.ts';
import { appendToOutbox } from './append-to-outbox.ts';
import { createDatabase, type Database } from './create-database.ts';
import { createDatabaseCheck } from './database-check.ts';
import { EmbeddedPostgresServer, type RunningEmbeddedPostgres } from './embedded-postgres-server.ts';
import { runMigrations } from './migration-runner.ts';
import { OutboxRelay } from './outbox-relay.ts';

const isCode = (code: string) => (error: unknown) => {
  assert.ok(error instanceof EnsembleError, `expected an EnsembleError, got ${String(error)}`);
  assert.equal(error.code, code);
  return true;
};

/**
 * PostgreSQL goes away while the pool, the bus, a consumer and the relay are in use, then comes back.
 * This file runs its own server, so stopping it disturbs no other test.
 */
describe('a database outage', { timeout: 300_000 }, () => {
  let folder: string;
  let server: EmbeddedPostgresServer;
  let running: RunningEmbeddedPostgres;
  let database: Database;
  let bus: EmbeddedEventBus;
  let relay: OutboxRelay;
  const handled = new Map<string, number>();
  const crashes: unknown[] = [];
  const onCrash = (error: unknown) => crashes.push(error);
  let seq = 0;
  const batch = (count: number): PublishRecord[] =>
    Array.from({ length: count }, () => {
      seq++;
      return {
        topic: 'outage.events',
        key: `k${seq % 7}`,
        value: createEvent({ type: 'test/outage.happened', projectId: 'default', data: { seq } }),
      };
    });

  before(async () => {
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);
    folder = await mkdtemp(join(tmpdir(), 'ensemble-outage-'));
    await chmod(folder, 0o755);
    server = new EmbeddedPostgresServer({ dataDir: join(folder, 'postgres') });
    running = await server.start();
    database = createDatabase({ url: running.url, connectTimeoutMs: 2_000 });
    await runMigrations(database);
    bus = new EmbeddedEventBus({
      database,
      pollIntervalMs: 200,
      rebalanceIntervalMs: 300,
      retention: false,
    });
    await bus.ensureTopics([{ name: 'outage.events', partitions: 3 }]);
    await bus.subscribe({
      groupId: 'outage-consumer',
      topics: ['outage.events'],
      concurrency: 3,
      handler: async (message: BusMessage) => {
        handled.set(message.value.id, (handled.get(message.value.id) ?? 0) + 1);
      },
    });
    relay = new OutboxRelay({ database, bus, pollIntervalMs: 200, maxBackoffMs: 500 });
    relay.start();
  });

  after(async () => {
    await relay?.stop();
    await bus?.close();
    await database?.close();
    await server?.stop();
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('works before the outage', async () => {
    await bus.publish(batch(40));
    await database.db.transaction().execute((trx) => appendToOutbox(trx, batch(10)));
    await waitFor('50 handled', () => handled.size >= 50, { timeoutMs: 60_000 });
    await createDatabaseCheck(database.pool).check(AbortSignal.timeout(10_000));
  });

  it('fails fast while PostgreSQL is down, and nothing crashes', async () => {
    // A transaction holds a checked-out connection while the server goes away.
    let firstQueryDone = false;
    let resume: () => void = () => undefined;
    const resumed = new Promise<void>((resolve) => {
      resume = resolve;
    });
    const inTransaction = database.db.transaction().execute(async (trx) => {
      await trx.selectFrom('projects').select('id').execute();
      firstQueryDone = true;
      await resumed;
      await trx.selectFrom('projects').select('id').execute();
    });
    await waitFor('the transaction to be open', () => firstQueryDone);
    await running.stop();
    resume();
    await assert.rejects(inTransaction, isCode('database_unavailable'));
    const startedAt = Date.now();
    await assert.rejects(database.db.selectFrom('projects').selectAll().execute(), isCode('database_unavailable'));
    // Records that fail to be written are not counted as sent.
    const notWritten = batch(2);
    seq -= 2;
    await assert.rejects(
      database.db.transaction().execute((trx) => appendToOutbox(trx, notWritten.slice(0, 1))),
      isCode('database_unavailable'),
    );
    await assert.rejects(
      createDatabaseCheck(database.pool).check(AbortSignal.timeout(10_000)),
      isCode('database_unavailable'),
    );
    await assert.rejects(bus.ping(AbortSignal.timeout(10_000)), isCode('event_bus_unavailable'));
    await assert.rejects(bus.publish(notWritten.slice(1)), isCode('event_bus_unavailable'));
    assert.ok(Date.now() - startedAt < 10_000, `failed fast (${Date.now() - startedAt} ms)`);
    // Let the consumer, the relay and the pool's idle clients run into the outage for a while.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    assert.deepEqual(crashes, []);
  });

  it('recovers by itself when PostgreSQL is back, losing nothing', async () => {
    running = await server.start();
    await waitFor(
      'queries to work again',
      async () => (await database.db.selectFrom('projects').select('id').execute()).length === 1,
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    await createDatabaseCheck(database.pool).check(AbortSignal.timeout(10_000));
    await bus.ping();
    await bus.publish(batch(40));
    await database.db.transaction().execute((trx) => appendToOutbox(trx, batch(10)));
    await waitFor('all 100 handled', () => handled.size >= 100, { timeoutMs: 120_000, intervalMs: 100 });
    assert.equal(seq, 100);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(handled.size, 100, 'exactly the records that were written, none lost');
    assert.deepEqual(crashes, []);
  });
});
