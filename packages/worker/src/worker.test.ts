import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EmbeddedEventBus } from '@ensemble/adapters/embedded';
import { createDatabase, runMigrations } from '@ensemble/adapters/postgres';
import { createEvent, type EventBus, silentLogger } from '@ensemble/core';
import { createTestDatabase, type TestDatabase, uniqueName, waitFor } from '@ensemble/testkit';
import { type BackgroundService, startWorker } from './worker.ts';

describe('startWorker', { timeout: 120_000 }, () => {
  let testDatabase: TestDatabase;
  let bus: EventBus;
  before(async () => {
    testDatabase = await createTestDatabase('worker');
    const database = createDatabase({ url: testDatabase.url });
    await runMigrations(database);
    bus = new EmbeddedEventBus({ database, ownsDatabase: true });
  });
  after(async () => {
    await bus.close();
    await testDatabase.drop();
  });

  const recordingService = (name: string, log: string[]): BackgroundService => ({
    name,
    start: () => {
      log.push(`start ${name}`);
    },
    stop: async () => {
      log.push(`stop ${name}`);
    },
  });

  it('runs services and consumers, and on stop drains the handler in hand before stopping services', async () => {
    const topic = uniqueName('worker.topic').replaceAll('_', '.');
    await bus.ensureTopics([{ name: topic, partitions: 2 }]);
    const log: string[] = [];
    let handled = 0;
    let inFlight = false;
    const worker = await startWorker({
      bus,
      logger: silentLogger,
      services: [recordingService('relay', log)],
      consumers: [
        {
          name: 'counter',
          groupId: uniqueName('g'),
          topics: [topic],
          handler: async () => {
            inFlight = true;
            await new Promise((resolve) => setTimeout(resolve, 200));
            handled += 1;
            inFlight = false;
          },
        },
      ],
    });
    await bus.publish([
      { topic, key: 'a', value: createEvent({ type: 'test/thing.happened', projectId: 'p', data: 1 }) },
    ]);
    await waitFor('the handler to start', () => inFlight);
    await worker.stop();
    assert.equal(handled, 1, 'the in-flight handler finished before stop resolved');
    assert.deepEqual(log, ['start relay', 'stop relay']);
    await worker.stop();
    assert.deepEqual(log, ['start relay', 'stop relay'], 'stop is idempotent');
  });

  it('holds scale-in protection while a handler runs', async () => {
    const topic = uniqueName('worker.protected').replaceAll('_', '.');
    await bus.ensureTopics([{ name: topic, partitions: 1 }]);
    const holds: string[] = [];
    let open = 0;
    let openDuringHandler = -1;
    const worker = await startWorker({
      bus,
      logger: silentLogger,
      protection: {
        hold: (reason) => {
          holds.push(reason);
          open += 1;
          return () => {
            open -= 1;
          };
        },
        close: async () => {},
      },
      consumers: [
        {
          name: 'protected-consumer',
          groupId: uniqueName('g'),
          topics: [topic],
          handler: async () => {
            openDuringHandler = open;
            throw new Error('fails once, to check the hold is released on errors too');
          },
          retry: { initialDelayMs: 10, maxDelayMs: 10, maxAttempts: 1 },
          deadLetterTopic: `${topic}.dlq`,
        },
      ],
    });
    await bus.publish([
      { topic, key: 'a', value: createEvent({ type: 'test/thing.happened', projectId: 'p', data: 1 }) },
    ]);
    await waitFor('the handler to run', () => openDuringHandler !== -1);
    await worker.stop();
    assert.equal(openDuringHandler, 1, 'protection was held during the handler');
    assert.deepEqual(holds, ['protected-consumer']);
    assert.equal(open, 0, 'and released after it failed');
  });

  it('stops the services it started when a consumer cannot subscribe', async () => {
    const log: string[] = [];
    await assert.rejects(
      startWorker({
        bus,
        logger: silentLogger,
        services: [recordingService('relay', log)],
        consumers: [{ name: 'broken', groupId: 'g', topics: ['not a topic!'], handler: async () => {} }],
      }),
    );
    assert.deepEqual(log, ['start relay', 'stop relay']);
  });
});
