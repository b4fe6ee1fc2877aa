import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type BusMessage,
  createEvent,
  type DeadLetter,
  EnsembleError,
  type PublishRecord,
  type Subscription,
} from '@ensemble/core';
import { createTestDatabase, type TestDatabase, uniqueName, waitFor } from '@ensemble/testkit';
import { createDatabase, type Database } from '../postgres/create-database.ts';
import { runMigrations } from '../postgres/migration-runner.ts';
import { EmbeddedEventBus, type EmbeddedEventBusOptions } from './embedded-event-bus.ts';
import { partitionForKey } from './partition-for-key.ts';

const record = (topic: string, key: string, seq: number): PublishRecord<{ seq: number }> => ({
  topic,
  key,
  value: createEvent({ type: 'test/behaviour.happened', projectId: 'default', data: { seq } }),
});
const seqOf = (message: BusMessage) => (message.value.data as { seq: number }).seq;

/** What the contract suite does not pin down: fair shares, exclusivity, wake-ups, invalid records, retention. */
describe('embedded event bus behaviour', { timeout: 300_000 }, () => {
  let testDatabase: TestDatabase;
  let admin: Database;
  const buses: EmbeddedEventBus[] = [];
  const subscriptions: Subscription[] = [];
  const client = (options: Partial<EmbeddedEventBusOptions> = {}) => {
    const bus = new EmbeddedEventBus({
      database: createDatabase({ url: testDatabase.url }),
      ownsDatabase: true,
      rebalanceIntervalMs: 300,
      retention: false,
      ...options,
    });
    buses.push(bus);
    return bus;
  };
  const topic = async (bus: EmbeddedEventBus, partitions: number) => {
    const name = uniqueName('behaviour').replaceAll('_', '.');
    await bus.ensureTopics([{ name, partitions }]);
    return name;
  };

  before(async () => {
    testDatabase = await createTestDatabase('bus_behaviour');
    admin = createDatabase({ url: testDatabase.url });
    await runMigrations(admin);
  });
  after(async () => {
    for (const subscription of subscriptions) await subscription.close();
    for (const bus of buses) await bus.close();
    await admin.close();
    await testDatabase.drop();
  });

  it('shares partitions fairly, never runs one partition twice at once, and keeps key order through rebalances', async () => {
    const [a, b, c] = [client(), client(), client()];
    const name = await topic(a, 6);
    const group = uniqueName('fair');
    const inFlight = new Set<number>();
    const overlaps: number[] = [];
    const partitionsBy = new Map<string, Set<number>>();
    const firstSeen = new Map<string, number[]>();
    const seen = new Set<string>();
    const handler = (who: string) => async (message: BusMessage) => {
      if (inFlight.has(message.partition)) overlaps.push(message.partition);
      inFlight.add(message.partition);
      partitionsBy.set(who, (partitionsBy.get(who) ?? new Set()).add(message.partition));
      await new Promise((resolve) => setTimeout(resolve, 2));
      if (!seen.has(message.value.id)) {
        seen.add(message.value.id);
        firstSeen.set(message.key, [...(firstSeen.get(message.key) ?? []), seqOf(message)]);
      }
      inFlight.delete(message.partition);
    };
    subscriptions.push(await a.subscribe({ groupId: group, topics: [name], handler: handler('a'), concurrency: 6 }));
    subscriptions.push(await b.subscribe({ groupId: group, topics: [name], handler: handler('b'), concurrency: 6 }));
    // Wait until the first member has given half its partitions to the second.
    await waitFor('a split of 3 + 3', async () => (await locksPerSession(admin)).join() === '3,3', {
      timeoutMs: 30_000,
    });
    const keys = Array.from({ length: 24 }, (_, i) => `key-${i}`);
    let seq = 0;
    for (let round = 0; round < 10; round++) await a.publish(keys.map((key) => record(name, key, seq++)));
    const lateJoiner = await c.subscribe({ groupId: group, topics: [name], handler: handler('c'), concurrency: 6 });
    subscriptions.push(lateJoiner);
    for (let round = 0; round < 10; round++) await b.publish(keys.map((key) => record(name, key, seq++)));
    await waitFor('480 handled', () => seen.size >= 480, { timeoutMs: 120_000 });
    await waitFor('a split of 2 + 2 + 2', async () => (await locksPerSession(admin)).join() === '2,2,2', {
      timeoutMs: 30_000,
    });

    assert.deepEqual(overlaps, [], 'a partition was never handled by two consumers at once');
    assert.ok((partitionsBy.get('a')?.size ?? 0) >= 2, 'a handled its share');
    assert.ok((partitionsBy.get('b')?.size ?? 0) >= 2, 'b handled its share');
    for (const key of keys) {
      const sequence = firstSeen.get(key) ?? [];
      assert.deepEqual(
        sequence,
        [...sequence].sort((x, y) => x - y),
        `key ${key} kept its order`,
      );
    }
  });

  it('wakes consumers by NOTIFY, long before the poll would', async () => {
    const bus = client({ pollIntervalMs: 120_000 });
    const name = await topic(bus, 2);
    const got: number[] = [];
    subscriptions.push(
      await bus.subscribe({
        groupId: uniqueName('notify'),
        topics: [name],
        handler: async (message) => {
          got.push(seqOf(message));
        },
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    await bus.publish([record(name, 'x', 1), record(name, 'y', 2)]);
    await waitFor('both delivered', () => got.length >= 2, { timeoutMs: 30_000 });
  });

  it('dead-letters a record that is not a valid envelope, or skips it without a dead-letter topic', async () => {
    const bus = client();
    const name = await topic(bus, 1);
    const deadLetterTopic = await topic(bus, 1);
    await admin.db
      .insertInto('bus_records')
      .values([
        { topic: name, partition: 0, record_offset: 0, key: 'k', value: '{"not":"an envelope"}' },
        { topic: name, partition: 0, record_offset: 1, key: 'k', value: 'not json' },
      ])
      .execute();
    await admin.db
      .updateTable('bus_partitions')
      .set({ next_offset: 2 })
      .where('topic', '=', name)
      .where('partition', '=', 0)
      .execute();
    await bus.publish([record(name, 'k', 3)]);

    const handled: number[] = [];
    subscriptions.push(
      await bus.subscribe({
        groupId: uniqueName('invalid'),
        topics: [name],
        deadLetterTopic,
        handler: async (message) => {
          handled.push(seqOf(message));
        },
      }),
    );
    const letters: DeadLetter[] = [];
    subscriptions.push(
      await bus.subscribe({
        groupId: uniqueName('letters'),
        topics: [deadLetterTopic],
        handler: async (message) => {
          letters.push(message.value.data as DeadLetter);
        },
      }),
    );
    await waitFor('the valid record and two dead letters', () => handled.length === 1 && letters.length === 2);
    assert.deepEqual(
      letters.map((letter) => [letter.reason, letter.offset, letter.original, letter.attempts]),
      [
        ['invalid_envelope', '0', '{"not":"an envelope"}', 0],
        ['invalid_envelope', '1', 'not json', 0],
      ],
    );

    const skipped: number[] = [];
    subscriptions.push(
      await bus.subscribe({
        groupId: uniqueName('skip'),
        topics: [name],
        handler: async (message) => {
          skipped.push(seqOf(message));
        },
      }),
    );
    await waitFor('the valid record, invalid ones skipped', () => skipped.length === 1);
    assert.deepEqual(skipped, [3]);
  });

  it('hands over the records around an invalid one in separate batches', async () => {
    const bus = client();
    const name = await topic(bus, 1);
    const deadLetterTopic = await topic(bus, 1);
    await bus.publish([record(name, 'k', 1), record(name, 'k', 2)]);
    await admin.db
      .insertInto('bus_records')
      .values({ topic: name, partition: 0, record_offset: 2, key: 'k', value: 'not json' })
      .execute();
    await admin.db
      .updateTable('bus_partitions')
      .set({ next_offset: 3 })
      .where('topic', '=', name)
      .where('partition', '=', 0)
      .execute();
    await bus.publish([record(name, 'k', 3), record(name, 'k', 4)]);

    const batches: number[][] = [];
    subscriptions.push(
      await bus.subscribe({
        groupId: uniqueName('batches'),
        topics: [name],
        deadLetterTopic,
        batch: {
          maxRecords: 100,
          handler: async (messages) => {
            batches.push(messages.map(seqOf));
          },
        },
      }),
    );
    const letters: DeadLetter[] = [];
    subscriptions.push(
      await bus.subscribe({
        groupId: uniqueName('letters'),
        topics: [deadLetterTopic],
        handler: async (message) => {
          letters.push(message.value.data as DeadLetter);
        },
      }),
    );
    await waitFor('four records and a dead letter', () => batches.flat().length === 4 && letters.length === 1);
    assert.deepEqual(batches, [
      [1, 2],
      [3, 4],
    ]);
    assert.deepEqual(
      letters.map((letter) => [letter.reason, letter.offset]),
      [['invalid_envelope', '2']],
    );
  });

  it('creates an unknown topic with the default partition count when publishing to it', async () => {
    const bus = client({ defaultPartitions: 5 });
    const name = uniqueName('implicit').replaceAll('_', '.');
    await bus.publish([record(name, 'k', 1)]);
    const row = await admin.db
      .selectFrom('bus_topics')
      .select('partitions')
      .where('name', '=', name)
      .executeTakeFirst();
    assert.equal(row?.partitions, 5);
    const stored = await admin.db.selectFrom('bus_records').select('partition').where('topic', '=', name).execute();
    assert.deepEqual(stored, [{ partition: partitionForKey('k', 5) }]);
  });

  it('deletes old records only once every group has passed them', async () => {
    const bus = client();
    const name = await topic(bus, 1);
    await bus.publish(Array.from({ length: 10 }, (_, i) => record(name, 'k', i)));
    await admin.pool.query(`update bus_records set created_at = now() - interval '2 days' where topic = $1`, [name]);
    // One group has handled 6 records, another all 10.
    await admin.db
      .insertInto('bus_group_offsets')
      .values([
        { group_id: 'slow', topic: name, partition: 0, next_offset: 6 },
        { group_id: 'fast', topic: name, partition: 0, next_offset: 10 },
      ])
      .execute();
    await bus.deleteExpiredRecords(86_400_000);
    const left = await admin.db
      .selectFrom('bus_records')
      .select('record_offset')
      .where('topic', '=', name)
      .orderBy('record_offset')
      .execute();
    assert.deepEqual(
      left.map((row) => Number(row.record_offset)),
      [6, 7, 8, 9],
    );
    await bus.deleteExpiredRecords(3 * 86_400_000);
    assert.equal(
      (await admin.db.selectFrom('bus_records').select('topic').where('topic', '=', name).execute()).length,
      4,
    );
  });

  it('refuses work once closed', async () => {
    const bus = client();
    await bus.close();
    await assert.rejects(
      bus.publish([record('closed.topic', 'k', 1)]),
      (error: unknown) => error instanceof EnsembleError && error.code === 'shutting_down',
    );
  });
});

/** How many partition locks each session holds right now, across the test database. */
async function locksPerSession(database: Database): Promise<number[]> {
  const { rows } = await database.pool.query<{ count: number }>(
    `select count(*)::int as count from pg_locks
     where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = current_database())
     group by pid order by 1`,
  );
  return rows.map((row) => row.count);
}
