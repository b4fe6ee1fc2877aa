import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type BusMessage, createEvent, type DeadLetter, deadLetterEventType } from '@ensemble/core';
import { testKafkaBrokers, uniqueName, waitFor } from '@ensemble/testkit';
import { Producer } from '@platformatic/kafka';
import { KafkaEventBus } from './kafka-event-bus.ts';
import { recordingLogger } from './recording-logger.ts';

// Records another producer could write by mistake: bytes that are not JSON, JSON that is not an
// envelope, and no value at all (a tombstone).
const garbage: Array<{ what: string; value: Buffer | undefined }> = [
  { what: 'not JSON', value: Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x67, 0x61, 0x72]) },
  { what: 'not an envelope', value: Buffer.from(JSON.stringify({ hello: 'world' })) },
  { what: 'no value', value: undefined },
];

describe('KafkaEventBus with records that are not event envelopes', { timeout: 180_000 }, () => {
  const brokers = testKafkaBrokers();
  const logger = recordingLogger();
  const bus = new KafkaEventBus({
    brokers,
    clientId: 'invalid-records',
    replicationFactor: 1,
    connectTimeoutMs: 5_000,
    logger,
  });
  const raw = new Producer({ clientId: 'invalid-records-raw', bootstrapBrokers: brokers });
  const valid = (seq: number) => createEvent({ type: 'test/record.sent', projectId: 'p1', data: { seq } });

  /** Writes the garbage records and then one valid envelope, all with one key (so one partition, in order). */
  const writeGarbageThenValid = async (topic: string, seq: number) => {
    await raw.send({
      messages: garbage.map((g) => ({ topic, key: Buffer.from('k'), ...(g.value ? { value: g.value } : {}) })),
    });
    await bus.publish([{ topic, key: 'k', value: valid(seq) }]);
  };

  before(async () => {
    await bus.ping();
  });
  after(async () => {
    await bus.close();
    await raw.close();
  });

  it('dead-letters each invalid record with reason invalid_envelope and goes on with the partition', async () => {
    const topic = uniqueName('invalid').replaceAll('_', '.');
    const deadLetterTopic = `${topic}.dlq`;
    await bus.ensureTopics([
      { name: topic, partitions: 2 },
      { name: deadLetterTopic, partitions: 1 },
    ]);
    await writeGarbageThenValid(topic, 1);

    const handled: BusMessage[] = [];
    const dead: BusMessage[] = [];
    const subscription = await bus.subscribe({
      groupId: uniqueName('g'),
      topics: [topic],
      deadLetterTopic,
      handler: async (message) => {
        handled.push(message);
      },
    });
    const letters = await bus.subscribe({
      groupId: uniqueName('dlq'),
      topics: [deadLetterTopic],
      handler: async (message) => {
        dead.push(message);
      },
    });
    await waitFor('the valid record and three dead letters', () => handled.length >= 1 && dead.length >= 3, {
      timeoutMs: 60_000,
    });
    await subscription.close();
    await letters.close();

    assert.deepEqual(
      handled.map((m) => (m.value.data as { seq: number }).seq),
      [1],
    );
    const validOffset = BigInt(handled[0]?.offset ?? '-1');
    assert.equal(dead.length, 3);
    dead.forEach((message, i) => {
      assert.equal(message.value.type, deadLetterEventType);
      assert.equal(message.key, 'k', 'a dead letter keeps the key of its record');
      const letter = message.value.data as DeadLetter;
      assert.equal(letter.reason, 'invalid_envelope');
      assert.equal(letter.topic, topic);
      assert.equal(letter.partition, handled[0]?.partition);
      assert.equal(letter.attempts, 0);
      assert.ok(BigInt(letter.offset) < validOffset, 'the invalid records came before the valid one');
      assert.equal(letter.original, garbage[i]?.value?.toString('utf8') ?? '', `the raw text of '${garbage[i]?.what}'`);
    });
    const errors = dead.map((message) => (message.value.data as DeadLetter).error);
    assert.match(errors[0] ?? '', /not JSON/);
    assert.match(errors[1] ?? '', /not an event envelope/);
    assert.match(errors[2] ?? '', /no value/);
  });

  it('never batches across an invalid record: the runs before and after it come apart', async () => {
    const topic = uniqueName('batch').replaceAll('_', '.');
    const deadLetterTopic = `${topic}.dlq`;
    await bus.ensureTopics([
      { name: topic, partitions: 1 },
      { name: deadLetterTopic, partitions: 1 },
    ]);
    await bus.publish([1, 2].map((seq) => ({ topic, key: 'k', value: valid(seq) })));
    await raw.send({ messages: [{ topic, key: Buffer.from('k'), value: garbage[1]?.value as Buffer }] });
    await bus.publish([3, 4].map((seq) => ({ topic, key: 'k', value: valid(seq) })));

    const batches: number[][] = [];
    const dead: DeadLetter[] = [];
    const subscription = await bus.subscribe({
      groupId: uniqueName('g'),
      topics: [topic],
      deadLetterTopic,
      batch: {
        maxRecords: 100,
        handler: async (messages) => {
          batches.push(messages.map((m) => (m.value.data as { seq: number }).seq));
        },
      },
    });
    const letters = await bus.subscribe({
      groupId: uniqueName('dlq'),
      topics: [deadLetterTopic],
      handler: async (message) => {
        dead.push(message.value.data as DeadLetter);
      },
    });
    await waitFor('four records and a dead letter', () => batches.flat().length >= 4 && dead.length >= 1, {
      timeoutMs: 60_000,
    });
    await subscription.close();
    await letters.close();
    assert.deepEqual(batches.flat(), [1, 2, 3, 4]);
    for (const batch of batches) assert.ok(batch.every((seq) => seq <= 2) || batch.every((seq) => seq >= 3));
    assert.deepEqual(
      dead.map((letter) => [letter.reason, letter.offset]),
      [['invalid_envelope', '2']],
    );
  });

  it('without a dead-letter topic, logs each invalid record at error level, skips it, and commits past it', async () => {
    const topic = uniqueName('skip').replaceAll('_', '.');
    await bus.ensureTopics([{ name: topic, partitions: 1 }]);
    await writeGarbageThenValid(topic, 1);
    const group = uniqueName('g');
    const handled: number[] = [];
    const handler = async (message: BusMessage) => {
      handled.push((message.value.data as { seq: number }).seq);
    };

    const first = await bus.subscribe({ groupId: group, topics: [topic], handler });
    await waitFor('the valid record', () => handled.includes(1), { timeoutMs: 60_000 });
    await first.close();
    const skipped = logger.entries.filter((e) => e.level === 'error' && e.fields.topic === topic);
    assert.equal(skipped.length, 3, 'one error per invalid record');
    assert.deepEqual(
      skipped.map((e) => e.fields.offset),
      ['0', '1', '2'],
    );

    // The group resumes after the valid record: nothing old comes back, invalid records included.
    await bus.publish([{ topic, key: 'k', value: valid(2) }]);
    const second = await bus.subscribe({ groupId: group, topics: [topic], handler });
    await waitFor('the new record', () => handled.includes(2), { timeoutMs: 60_000 });
    await second.close();
    assert.deepEqual(handled, [1, 2]);
    assert.equal(logger.entries.filter((e) => e.level === 'error' && e.fields.topic === topic).length, 3);
  });
});
