import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  createEvent,
  EnsembleError,
  type EventBus,
  type EventEnvelope,
  type PartitionLag,
  type PublishRecord,
  type Subscription,
} from '@ensemble/core';
import { createTestDatabase, type TestDatabase, waitFor } from '@ensemble/testkit';
import { EmbeddedEventBus } from '../embedded/embedded-event-bus.ts';
import { appendToOutbox } from './append-to-outbox.ts';
import { createDatabase, type Database } from './create-database.ts';
import { runMigrations } from './migration-runner.ts';
import { OutboxRelay } from './outbox-relay.ts';

/** Records what it is given; fails while `failing` is set, before recording anything. */
class RecordingBus implements EventBus {
  readonly kind = 'embedded' as const;
  readonly published: PublishRecord[] = [];
  failing = false;
  calls = 0;
  async ensureTopics(): Promise<void> {}
  async publish(records: readonly PublishRecord[]): Promise<void> {
    this.calls++;
    if (this.failing) throw new EnsembleError('event_bus_unavailable', 'the bus is down (test)');
    this.published.push(...records);
  }
  async subscribe(): Promise<Subscription> {
    throw new Error('not used');
  }
  async ping(): Promise<void> {}
  async consumerLag(): Promise<PartitionLag[]> {
    return [];
  }
  async close(): Promise<void> {}
}

const record = (key: string, seq: number): PublishRecord<{ seq: number }> => ({
  topic: 'outbox.test',
  key,
  value: createEvent({ type: 'test/outbox.written', projectId: 'default', data: { seq } }),
});

describe('outbox and relay', { timeout: 180_000 }, () => {
  let testDatabase: TestDatabase;
  let database: Database;
  const relays: OutboxRelay[] = [];
  const extraDatabases: Database[] = [];
  const startRelay = (bus: EventBus, options: Partial<ConstructorParameters<typeof OutboxRelay>[0]> = {}) => {
    const relay = new OutboxRelay({ database, bus, ...options });
    relays.push(relay);
    relay.start();
    return relay;
  };
  const outboxSize = async () => Number((await database.pool.query('select count(*) from outbox')).rows[0].count);
  const seqsByKey = (published: readonly PublishRecord[]) => {
    const byKey = new Map<string, number[]>();
    for (const each of published) {
      const { seq } = (each.value as EventEnvelope<{ seq: number }>).data;
      byKey.set(each.key, [...(byKey.get(each.key) ?? []), seq]);
    }
    return byKey;
  };

  before(async () => {
    testDatabase = await createTestDatabase('outbox');
    database = createDatabase({ url: testDatabase.url });
    await runMigrations(database);
  });
  after(async () => {
    for (const relay of relays) await relay.stop();
    for (const extra of extraDatabases) await extra.close();
    await database.close();
    await testDatabase.drop();
  });

  it('publishes what committed transactions appended, in order, and nothing from rolled-back ones', async () => {
    const bus = new RecordingBus();
    await database.db.transaction().execute(async (trx) => {
      await appendToOutbox(trx, [record('a', 1), record('b', 2), record('a', 3)]);
    });
    await assert.rejects(
      database.db.transaction().execute(async (trx) => {
        await appendToOutbox(trx, [record('a', 99)]);
        throw new Error('the business change failed');
      }),
      /business change failed/,
    );
    const relay = startRelay(bus);
    await waitFor('3 published', () => bus.published.length >= 3);
    await relay.stop();
    assert.deepEqual(
      bus.published.map((each) => (each.value.data as { seq: number }).seq),
      [1, 2, 3],
    );
    assert.equal(await outboxSize(), 0);
  });

  it('refuses an invalid envelope inside the transaction', async () => {
    const bad = {
      topic: 'outbox.test',
      key: 'k',
      value: { ...createEvent({ type: 'nope', projectId: 'p', data: 1 }) },
    };
    await assert.rejects(
      database.db.transaction().execute((trx) => appendToOutbox(trx, [bad])),
      (error: unknown) => error instanceof EnsembleError && error.code === 'validation_failed',
    );
  });

  it('wakes on NOTIFY instead of waiting for its poll', async () => {
    const bus = new RecordingBus();
    const relay = startRelay(bus, { pollIntervalMs: 120_000 });
    await waitFor('the relay to go idle', async () => (await outboxSize()) === 0 && bus.calls === 0 && relay);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const startedAt = Date.now();
    await database.db.transaction().execute((trx) => appendToOutbox(trx, [record('n', 1)]));
    await waitFor('published after NOTIFY', () => bus.published.length === 1, { timeoutMs: 20_000 });
    assert.ok(Date.now() - startedAt < 20_000);
    await relay.stop();
  });

  it('backs off while the bus fails, loses nothing, and keeps the order', async () => {
    const bus = new RecordingBus();
    bus.failing = true;
    const relay = startRelay(bus, { pollIntervalMs: 100, maxBackoffMs: 200 });
    for (let i = 0; i < 20; i++) {
      await database.db.transaction().execute((trx) => appendToOutbox(trx, [record(`k${i % 3}`, i)]));
    }
    await waitFor('several failed attempts', () => bus.calls >= 3);
    assert.equal(bus.published.length, 0);
    assert.equal(await outboxSize(), 20);
    bus.failing = false;
    await waitFor('all 20 published', () => bus.published.length >= 20);
    await relay.stop();
    assert.equal(bus.published.length, 20);
    for (const [key, seqs] of seqsByKey(bus.published)) {
      assert.deepEqual(
        seqs,
        [...seqs].sort((a, b) => a - b),
        `key ${key} kept its order`,
      );
    }
    assert.equal(await outboxSize(), 0);
  });

  it('keeps per-key order and loses nothing with two relays working at once', async () => {
    const bus = new RecordingBus();
    const second = createDatabase({ url: testDatabase.url });
    extraDatabases.push(second);
    const other = new OutboxRelay({ database: second, bus, batchSize: 7, pollIntervalMs: 50 });
    relays.push(other);
    other.start();
    const relay = startRelay(bus, { batchSize: 7, pollIntervalMs: 50 });
    const writers = Array.from({ length: 4 }, async (_, writer) => {
      for (let i = 0; i < 50; i++) {
        await database.db
          .transaction()
          .execute((trx) =>
            appendToOutbox(trx, [record(`w${writer}`, i), record(`shared${i % 2}`, writer * 1000 + i)]),
          );
      }
    });
    await Promise.all(writers);
    await waitFor('400 published', () => bus.published.length >= 400, { timeoutMs: 60_000 });
    await Promise.all([relay.stop(), other.stop()]);
    assert.equal(bus.published.length, 400, 'each row once');
    const byKey = seqsByKey(bus.published);
    for (let writer = 0; writer < 4; writer++) {
      assert.deepEqual(
        byKey.get(`w${writer}`),
        Array.from({ length: 50 }, (_, i) => i),
      );
    }
    assert.equal(await outboxSize(), 0);
  });

  it('drains the outbox when stopped', async () => {
    const bus = new RecordingBus();
    bus.failing = true;
    const relay = startRelay(bus, { pollIntervalMs: 60_000, batchSize: 10 });
    await database.db.transaction().execute((trx) =>
      appendToOutbox(
        trx,
        Array.from({ length: 35 }, (_, i) => record('d', i)),
      ),
    );
    await waitFor('a failed attempt', () => bus.calls >= 1);
    bus.failing = false;
    await relay.stop();
    assert.equal(bus.published.length, 35);
    assert.equal(await outboxSize(), 0);
  });

  it('delivers through the embedded bus end to end', async () => {
    const bus = new EmbeddedEventBus({ database, retention: false });
    const received: number[] = [];
    const subscription = await bus.subscribe({
      groupId: 'outbox-e2e',
      topics: ['outbox.e2e'],
      handler: async (message) => {
        received.push((message.value.data as { seq: number }).seq);
      },
    });
    const relay = startRelay(bus);
    await database.db.transaction().execute((trx) =>
      appendToOutbox(
        trx,
        Array.from({ length: 10 }, (_, i) => ({ ...record('e2e', i), topic: 'outbox.e2e' })),
      ),
    );
    await waitFor('10 received', () => received.length >= 10);
    assert.deepEqual(received, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await relay.stop();
    await subscription.close();
    await bus.close();
  });
});
