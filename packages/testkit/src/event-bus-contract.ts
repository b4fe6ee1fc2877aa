import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type BusMessage,
  createEvent,
  type DeadLetter,
  EnsembleError,
  type EventBus,
  type PublishRecord,
  type Subscription,
} from '@ensemble/core';
import { uniqueName } from './environment.ts';
import { waitFor } from './wait-for.ts';

export interface EventBusUnderTest {
  bus: EventBus;
  /** A second, independent client of the same bus (another process in production). */
  secondClient(): Promise<EventBus>;
  cleanup(): Promise<void>;
}

/**
 * The behaviour every EventBus adapter promises. Each adapter's test file calls this with a factory
 * that connects to a real backend (the Kafka broker, or PostgreSQL for the embedded bus).
 */
export function describeEventBusContract(adapterName: string, connect: () => Promise<EventBusUnderTest>): void {
  describe(`EventBus contract: ${adapterName}`, { timeout: 240_000 }, () => {
    let harness: EventBusUnderTest;
    let bus: EventBus;
    const openSubscriptions: Subscription[] = [];
    const extraClients: EventBus[] = [];

    const freshTopic = async (partitions = 3) => {
      const name = uniqueName('contract').replaceAll('_', '.');
      await bus.ensureTopics([{ name, partitions }]);
      return name;
    };
    const record = (topic: string, key: string, seq: number): PublishRecord<{ seq: number; key: string }> => ({
      topic,
      key,
      value: createEvent({ type: 'test/contract.happened', projectId: 'p1', data: { seq, key } }),
    });
    const subscribe = async (...args: Parameters<EventBus['subscribe']>) => {
      const subscription = await bus.subscribe(...args);
      openSubscriptions.push(subscription);
      return subscription;
    };

    before(async () => {
      harness = await connect();
      bus = harness.bus;
    });
    after(async () => {
      for (const subscription of openSubscriptions) await subscription.close();
      for (const client of extraClients) await client.close();
      await bus.close();
      await harness.cleanup();
    });

    it('pings a reachable bus', async () => {
      await bus.ping();
    });

    it('creates topics idempotently', async () => {
      const topic = await freshTopic(2);
      await bus.ensureTopics([{ name: topic, partitions: 2 }]);
    });

    it('refuses to publish a record whose value is not a valid envelope', async () => {
      const topic = await freshTopic();
      const bad = { topic, key: 'k', value: { ...createEvent({ type: 'no-slash', projectId: 'p', data: 1 }) } };
      await assert.rejects(bus.publish([bad]), (error: unknown) => {
        assert.ok(error instanceof EnsembleError);
        assert.equal(error.code, 'validation_failed');
        return true;
      });
    });

    it('delivers every published record, with its key and envelope, to a new group', async () => {
      const topic = await freshTopic();
      const sent = Array.from({ length: 30 }, (_, i) => record(topic, `key-${i % 5}`, i));
      await bus.publish(sent);
      const received: BusMessage[] = [];
      await subscribe({
        groupId: uniqueName('g'),
        topics: [topic],
        handler: async (message) => {
          received.push(message);
        },
      });
      await waitFor('30 records', () => received.length >= 30);
      const byId = new Map(received.map((m) => [m.value.id, m]));
      assert.equal(byId.size, 30);
      for (const original of sent) {
        const got = byId.get(original.value.id);
        assert.ok(got, `record ${original.value.id} was delivered`);
        assert.equal(got.key, original.key);
        assert.equal(got.topic, topic);
        assert.deepEqual(got.value, original.value);
        assert.equal(got.attempt, 1);
        assert.match(got.offset, /^\d+$/);
      }
    });

    it('keeps the order of records that share a key', async () => {
      const topic = await freshTopic(4);
      const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
      const sent: PublishRecord[] = [];
      for (let i = 0; i < 120; i++) sent.push(record(topic, keys[i % keys.length] as string, i));
      // Several publish calls, as producers do, interleaving keys.
      for (let i = 0; i < sent.length; i += 17) await bus.publish(sent.slice(i, i + 17));
      const seen = new Map<string, number[]>();
      await subscribe({
        groupId: uniqueName('g'),
        topics: [topic],
        concurrency: 4,
        handler: async (message) => {
          const data = message.value.data as { seq: number };
          seen.set(message.key, [...(seen.get(message.key) ?? []), data.seq]);
          // Give other partitions a chance to interleave.
          await new Promise((resolve) => setImmediate(resolve));
        },
      });
      await waitFor('120 records', () => [...seen.values()].reduce((n, s) => n + s.length, 0) >= 120);
      for (const key of keys) {
        const sequence = seen.get(key) ?? [];
        assert.equal(sequence.length, 20, `key ${key} got all its records`);
        assert.deepEqual(
          sequence,
          [...sequence].sort((x, y) => x - y),
          `key ${key} kept its order`,
        );
      }
    });

    it('splits a group between consumers and gives every group its own copy', async () => {
      const topic = await freshTopic(4);
      const second = await harness.secondClient();
      extraClients.push(second);
      const group = uniqueName('shared');
      const countsA = new Map<string, number>();
      const countsB = new Map<string, number>();
      const other = new Map<string, number>();
      const count = (map: Map<string, number>) => async (message: BusMessage) => {
        map.set(message.value.id, (map.get(message.value.id) ?? 0) + 1);
      };
      await subscribe({ groupId: group, topics: [topic], handler: count(countsA) });
      openSubscriptions.push(await second.subscribe({ groupId: group, topics: [topic], handler: count(countsB) }));
      await subscribe({ groupId: uniqueName('other'), topics: [topic], handler: count(other) });

      const sent = Array.from({ length: 80 }, (_, i) => record(topic, `k${i}`, i));
      await bus.publish(sent);
      await waitFor(
        'the shared group to see all 80',
        () => new Set([...countsA.keys(), ...countsB.keys()]).size >= 80,
        {
          timeoutMs: 60_000,
        },
      );
      await waitFor('the other group to see all 80', () => other.size >= 80, { timeoutMs: 60_000 });
      for (const { value } of sent) {
        assert.ok(countsA.has(value.id) || countsB.has(value.id), 'the shared group handled each record');
        assert.equal(other.get(value.id), 1, 'the other group handled each record once');
      }
    });

    it('retries a failing handler with backoff and holds back later records of its key', async () => {
      const topic = await freshTopic(1);
      await bus.publish([record(topic, 'k', 1), record(topic, 'k', 2)]);
      const log: string[] = [];
      const attemptTimes: number[] = [];
      await subscribe({
        groupId: uniqueName('g'),
        topics: [topic],
        retry: { initialDelayMs: 40, maxDelayMs: 200 },
        handler: async (message) => {
          const { seq } = message.value.data as { seq: number };
          log.push(`${seq}#${message.attempt}`);
          if (seq === 1) attemptTimes.push(Date.now());
          if (seq === 1 && message.attempt < 3) throw new Error('transient failure');
        },
      });
      await waitFor('record 2 handled', () => log.includes('2#1'));
      assert.deepEqual(log, ['1#1', '1#2', '1#3', '2#1']);
      const [t1, t2, t3] = attemptTimes as [number, number, number];
      assert.ok(t2 - t1 >= 15 && t3 - t2 >= 15, `retries waited (${t2 - t1} ms, ${t3 - t2} ms)`);
    });

    it('sends a record to the dead-letter topic after its last attempt and goes on', async () => {
      const topic = await freshTopic(1);
      const deadLetterTopic = await freshTopic(1);
      const poison = record(topic, 'k', 1);
      await bus.publish([poison, record(topic, 'k', 2)]);
      const handled: number[] = [];
      await subscribe({
        groupId: uniqueName('g'),
        topics: [topic],
        retry: { initialDelayMs: 10, maxDelayMs: 20, maxAttempts: 3 },
        deadLetterTopic,
        handler: async (message) => {
          const { seq } = message.value.data as { seq: number };
          if (seq === 1) throw new Error('always fails');
          handled.push(seq);
        },
      });
      const dead: BusMessage[] = [];
      await subscribe({
        groupId: uniqueName('dlq'),
        topics: [deadLetterTopic],
        handler: async (message) => {
          dead.push(message);
        },
      });
      await waitFor('record 2 handled and 1 dead-lettered', () => handled.includes(2) && dead.length >= 1);
      assert.deepEqual(handled, [2]);
      assert.equal(dead.length, 1);
      const letter = dead[0]?.value.data as DeadLetter;
      assert.equal(dead[0]?.value.type, 'bus/message.dead-lettered');
      assert.equal(letter.topic, topic);
      assert.equal(letter.reason, 'handler_failed');
      assert.equal(letter.attempts, 3);
      assert.match(letter.error, /always fails/);
      assert.deepEqual(letter.original, poison.value);
    });

    it('hands over runs of a partition in batches of at most maxRecords, in order, each record once', async () => {
      const topic = await freshTopic(2);
      const sent = Array.from({ length: 60 }, (_, i) => record(topic, `k${i % 2}`, i));
      await bus.publish(sent);
      const batches: BusMessage[][] = [];
      await subscribe({
        groupId: uniqueName('g'),
        topics: [topic],
        concurrency: 2,
        batch: {
          maxRecords: 8,
          handler: async (messages) => {
            batches.push([...messages]);
          },
        },
      });
      await waitFor('60 records', () => batches.flat().length >= 60);
      assert.equal(new Set(batches.flat().map((m) => m.value.id)).size, 60, 'each record once');
      for (const batch of batches) {
        assert.ok(batch.length >= 1 && batch.length <= 8, `a batch of ${batch.length}`);
        assert.equal(new Set(batch.map((m) => `${m.topic}/${m.partition}`)).size, 1, 'one partition per batch');
        const offsets = batch.map((m) => BigInt(m.offset));
        offsets.slice(1).forEach((offset, i) => {
          assert.equal(offset, (offsets[i] as bigint) + 1n, 'consecutive offsets');
        });
      }
      assert.ok(
        batches.some((batch) => batch.length > 1),
        'records already waiting come together',
      );
      for (const key of ['k0', 'k1']) {
        const seqs = batches
          .flat()
          .filter((m) => m.key === key)
          .map((m) => (m.value.data as { seq: number }).seq);
        assert.deepEqual(
          seqs,
          [...seqs].sort((x, y) => x - y),
          `key ${key} kept its order`,
        );
      }
    });

    it('retries a failing batch whole, then dead-letters each of its records', async () => {
      const topic = await freshTopic(1);
      const deadLetterTopic = await freshTopic(1);
      const sent = [record(topic, 'k', 1), record(topic, 'k', 2), record(topic, 'k', 3)];
      await bus.publish(sent);
      const attempts: Array<{ attempt: number; seqs: number[] }> = [];
      await subscribe({
        groupId: uniqueName('g'),
        topics: [topic],
        retry: { initialDelayMs: 10, maxDelayMs: 20, maxAttempts: 2 },
        deadLetterTopic,
        batch: {
          maxRecords: 10,
          handler: async (messages) => {
            attempts.push({
              attempt: messages[0]?.attempt ?? 0,
              seqs: messages.map((m) => (m.value.data as { seq: number }).seq),
            });
            if (messages.some((m) => (m.value.data as { seq: number }).seq === 2)) throw new Error('batch fails');
          },
        },
      });
      const dead: DeadLetter[] = [];
      await subscribe({
        groupId: uniqueName('dlq'),
        topics: [deadLetterTopic],
        handler: async (message) => {
          dead.push(message.value.data as DeadLetter);
        },
      });
      const succeeded = () => attempts.filter((a) => !a.seqs.includes(2)).flatMap((a) => a.seqs);
      await waitFor('every record handled or dead-lettered', () => succeeded().length + dead.length >= 3, {
        timeoutMs: 60_000,
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      // However the records were split into batches, every batch holding 2 was tried twice whole.
      const failing = attempts.filter((a) => a.seqs.includes(2));
      assert.deepEqual(
        failing.map((a) => a.attempt),
        [1, 2],
      );
      assert.deepEqual(failing[0]?.seqs, failing[1]?.seqs, 'the retry had the same records');
      const deadSeqs = dead.map((letter) => (letter.original as { data: { seq: number } }).data.seq);
      assert.deepEqual(deadSeqs, failing[0]?.seqs, 'each record of the failed batch, in order');
      for (const letter of dead) {
        assert.equal(letter.reason, 'handler_failed');
        assert.equal(letter.attempts, 2);
        assert.match(letter.error, /batch fails/);
      }
      assert.deepEqual([...succeeded(), ...deadSeqs].sort(), [1, 2, 3], 'each record handled or dead-lettered once');
    });

    it('commits progress, so a group that comes back gets only what it has not handled', async () => {
      const topic = await freshTopic(2);
      const group = uniqueName('resume');
      await bus.publish(Array.from({ length: 10 }, (_, i) => record(topic, `k${i}`, i)));
      const first: number[] = [];
      const subscription = await bus.subscribe({
        groupId: group,
        topics: [topic],
        handler: async (message) => {
          first.push((message.value.data as { seq: number }).seq);
        },
      });
      await waitFor('first 10', () => first.length >= 10);
      await subscription.close();

      await bus.publish(Array.from({ length: 5 }, (_, i) => record(topic, `k${i}`, 100 + i)));
      const second: number[] = [];
      await subscribe({
        groupId: group,
        topics: [topic],
        handler: async (message) => {
          second.push((message.value.data as { seq: number }).seq);
        },
      });
      await waitFor('5 new records', () => second.length >= 5, { timeoutMs: 60_000 });
      // Let a wrongful redelivery of old records show up before judging.
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.deepEqual(
        [...second].sort((a, b) => a - b),
        [100, 101, 102, 103, 104],
      );
    });

    const totalLag = async (groupId: string, topics?: readonly string[]) =>
      (await bus.consumerLag(groupId, topics)).reduce((sum, row) => sum + row.lag, 0);

    it('reports the full lag of a group that has not consumed anything', async () => {
      const topic = await freshTopic(3);
      await bus.publish(Array.from({ length: 12 }, (_, i) => record(topic, `k${i}`, i)));
      const rows = await bus.consumerLag(uniqueName('never'), [topic]);
      assert.deepEqual(
        rows.map((row) => row.partition),
        [0, 1, 2],
        'one row per partition',
      );
      for (const row of rows) {
        assert.equal(row.topic, topic);
        assert.equal(row.committedOffset, null);
        assert.equal(row.lag, Number(row.endOffset), 'a new group starts at the earliest record');
      }
      assert.equal(
        rows.reduce((sum, row) => sum + row.lag, 0),
        12,
      );
      assert.deepEqual(await bus.consumerLag(uniqueName('never'), []), []);
      assert.deepEqual(await bus.consumerLag(uniqueName('never')), [], 'no topics named and none committed: no rows');
    });

    it('reports the lag of a group as published minus consumed, per partition', async () => {
      const topic = await freshTopic(3);
      const group = uniqueName('lag');
      await bus.publish(Array.from({ length: 10 }, (_, i) => record(topic, `k${i}`, i)));
      const handled = new Set<string>();
      const subscription = await bus.subscribe({
        groupId: group,
        topics: [topic],
        handler: async (message) => {
          handled.add(message.value.id);
        },
      });
      await waitFor('10 records handled', () => handled.size >= 10);
      await subscription.close();
      // Closing commits; some adapters commit asynchronously, so wait for the committed view.
      await waitFor('lag 0', async () => (await totalLag(group, [topic])) === 0, { timeoutMs: 30_000 });

      await bus.publish(Array.from({ length: 7 }, (_, i) => record(topic, `k${i}`, 100 + i)));
      const rows = await bus.consumerLag(group, [topic]);
      assert.equal(
        rows.reduce((sum, row) => sum + row.lag, 0),
        7,
      );
      for (const row of rows) {
        assert.notEqual(row.committedOffset, null, `partition ${row.partition} has a commit`);
        assert.equal(row.lag, Number(row.endOffset) - Number(row.committedOffset));
      }
      // Without topics: the topics the group has committed in.
      assert.equal(await totalLag(group), 7);

      // Consume M = 4 of the N = 7 new records; the others keep failing, so stay uncommitted: lag N - M.
      // (Adapters may commit in batches, but always before waiting to retry.)
      let taken = 0;
      const partial = await bus.subscribe({
        groupId: group,
        topics: [topic],
        retry: { initialDelayMs: 20, maxDelayMs: 100 },
        handler: async () => {
          if (taken >= 4) throw new Error('not now');
          taken++;
        },
      });
      await waitFor('4 records handled', () => taken >= 4);
      await waitFor('lag 3', async () => (await totalLag(group, [topic])) === 3, { timeoutMs: 30_000 });
      await partial.close();
      assert.equal(taken, 4);

      // Consume the rest: lag 0.
      await subscribe({ groupId: group, topics: [topic], handler: async () => {} });
      await waitFor('lag 0 again', async () => (await totalLag(group, [topic])) === 0, { timeoutMs: 60_000 });
    });

    it('refuses lag for a topic that does not exist', async () => {
      await assert.rejects(bus.consumerLag(uniqueName('g'), ['contract.no.such.topic']), (error: unknown) => {
        assert.ok(error instanceof EnsembleError);
        assert.equal(error.code, 'not_found');
        return true;
      });
    });

    it('waits for an in-flight handler when a subscription closes, and redelivers what was not committed', async () => {
      const topic = await freshTopic(1);
      const group = uniqueName('drain');
      await bus.publish([record(topic, 'k', 1)]);
      let finished = false;
      let started = false;
      const subscription = await bus.subscribe({
        groupId: group,
        topics: [topic],
        handler: async () => {
          started = true;
          await new Promise((resolve) => setTimeout(resolve, 300));
          finished = true;
        },
      });
      await waitFor('handler started', () => started);
      await subscription.close();
      assert.equal(finished, true, 'close() waited for the handler');
      await subscription.close();

      // A handler that fails at close time must not lose its record: the next consumer gets it.
      await bus.publish([record(topic, 'k', 2)]);
      const failing = await bus.subscribe({
        groupId: group,
        topics: [topic],
        retry: { initialDelayMs: 50, maxDelayMs: 50 },
        handler: async () => {
          throw new Error('not now');
        },
      });
      await new Promise((resolve) => setTimeout(resolve, 400));
      await failing.close();
      const redelivered: number[] = [];
      await subscribe({
        groupId: group,
        topics: [topic],
        handler: async (message) => {
          redelivered.push((message.value.data as { seq: number }).seq);
        },
      });
      await waitFor('record 2 redelivered', () => redelivered.includes(2), { timeoutMs: 60_000 });
      assert.deepEqual(redelivered, [2]);
    });
  });
}
