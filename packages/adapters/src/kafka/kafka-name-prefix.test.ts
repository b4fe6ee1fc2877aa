import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type BusMessage, createEvent, type DeadLetter, silentLogger } from '@ensemble/core';
import { testKafkaBrokers, uniqueName, waitFor } from '@ensemble/testkit';
import { describeEventBusContract } from '@ensemble/testkit/event-bus-contract';
import { Admin } from '@platformatic/kafka';
import { KafkaEventBus } from './kafka-event-bus.ts';

const connect = (clientId: string, namePrefix: string) =>
  new KafkaEventBus({
    brokers: testKafkaBrokers(),
    clientId,
    replicationFactor: 1,
    connectTimeoutMs: 5_000,
    logger: silentLogger,
    namePrefix,
  });

const prefix = `${uniqueName('ns')}.`;

// The port's whole behaviour holds with a prefix: callers never see it.
describeEventBusContract('kafka with a name prefix', async () => ({
  bus: connect('prefix-a', prefix),
  secondClient: async () => connect('prefix-b', prefix),
  cleanup: async () => {},
}));

describe('KafkaEventBus name prefix', { timeout: 120_000 }, () => {
  const prefixed = connect('prefix-c', prefix);
  const plain = connect('prefix-d', '');
  const admin = new Admin({ clientId: 'prefix-admin', bootstrapBrokers: testKafkaBrokers() });
  after(async () => {
    await prefixed.close();
    await plain.close();
    await admin.close();
  });

  it('puts the prefix on the cluster only: topics and groups there carry it, another installation sees none of it', async () => {
    const topic = uniqueName('prefixed').replaceAll('_', '.');
    const deadLetterTopic = `${topic}.dlq`;
    await prefixed.ensureTopics([
      { name: topic, partitions: 1 },
      { name: deadLetterTopic, partitions: 1 },
    ]);
    const onCluster = await admin.listTopics();
    assert.ok(onCluster.includes(`${prefix}${topic}`));
    assert.ok(!onCluster.includes(topic), 'no unprefixed topic was made');

    await prefixed.publish([
      { topic, key: 'k', value: createEvent({ type: 'test/prefix.sent', projectId: 'p', data: { seq: 1 } }) },
    ]);
    const got: BusMessage[] = [];
    const letters: DeadLetter[] = [];
    const group = uniqueName('g');
    const subscription = await prefixed.subscribe({
      groupId: group,
      topics: [topic],
      deadLetterTopic,
      retry: { initialDelayMs: 10, maxDelayMs: 10, maxAttempts: 1 },
      handler: async (message) => {
        got.push(message);
        throw new Error('park it');
      },
    });
    const dlq = await prefixed.subscribe({
      groupId: uniqueName('dlq'),
      topics: [deadLetterTopic],
      handler: async (message) => {
        letters.push(message.value.data as DeadLetter);
      },
    });
    assert.equal(subscription.groupId, group);
    await waitFor('the record and its dead letter', () => got.length === 1 && letters.length === 1, {
      timeoutMs: 60_000,
    });
    await subscription.close();
    await dlq.close();
    assert.equal(got[0]?.topic, topic, 'handlers see the plain name');
    assert.equal(letters[0]?.topic, topic, 'dead letters name the plain topic');
    const lag = await prefixed.consumerLag(group, [topic]);
    assert.deepEqual(
      lag.map((row) => [row.topic, row.lag]),
      [[topic, 0]],
    );
    await assert.rejects(plain.consumerLag(group, [topic]), /not_found|does not exist|unknown/i);
  });
});
