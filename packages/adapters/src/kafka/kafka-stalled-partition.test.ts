import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createEvent, type PublishRecord, silentLogger } from '@ensemble/core';
import { testKafkaBrokers, uniqueName, waitFor } from '@ensemble/testkit';
import { KafkaEventBus } from './kafka-event-bus.ts';

describe('KafkaEventBus with a partition stuck on a failing record', { timeout: 180_000 }, () => {
  const bus = new KafkaEventBus({
    brokers: testKafkaBrokers(),
    clientId: 'stalled-partition',
    replicationFactor: 1,
    connectTimeoutMs: 5_000,
    logger: silentLogger,
  });
  after(() => bus.close());

  it('keeps the other partitions flowing past the fetch backlog limit, then drains the stuck one in order', async () => {
    const stuckTopic = uniqueName('stuck').replaceAll('_', '.');
    const freeTopic = uniqueName('free').replaceAll('_', '.');
    await bus.ensureTopics([
      { name: stuckTopic, partitions: 1 },
      { name: freeTopic, partitions: 1 },
    ]);
    const batch = (topic: string, from: number, count: number): PublishRecord[] =>
      Array.from({ length: count }, (_, i) => ({
        topic,
        key: 'k',
        value: createEvent({ type: 'test/record.sent', projectId: 'p1', data: { seq: from + i } }),
      }));
    // More records behind the stuck one than the subscription buffers before it pauses fetching.
    for (let i = 0; i < 2_000; i += 500) await bus.publish(batch(stuckTopic, i, 500));
    await bus.publish(batch(freeTopic, 0, 300));

    let failing = true;
    const stuck: number[] = [];
    const free: number[] = [];
    const subscription = await bus.subscribe({
      groupId: uniqueName('g'),
      topics: [stuckTopic, freeTopic],
      retry: { initialDelayMs: 20, maxDelayMs: 100 },
      handler: async (message) => {
        const { seq } = message.value.data as { seq: number };
        if (message.topic === freeTopic) {
          free.push(seq);
          return;
        }
        if (failing) throw new Error('downstream is down');
        stuck.push(seq);
      },
    });
    await waitFor('every record of the free partition', () => free.length >= 300, { timeoutMs: 90_000 });
    assert.deepEqual(stuck, [], 'nothing passed the failing record');

    failing = false;
    await waitFor('the stuck partition to drain', () => stuck.length >= 2_000, { timeoutMs: 90_000 });
    await subscription.close();
    assert.deepEqual(
      stuck,
      Array.from({ length: 2_000 }, (_, i) => i),
    );
    assert.deepEqual(
      free,
      Array.from({ length: 300 }, (_, i) => i),
    );
  });
});
