import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KafkaEventBus } from '@ensemble/adapters/kafka';
import { appendToOutbox, createDatabase } from '@ensemble/adapters/postgres';
import { createEvent, type EventEnvelope, silentLogger, topics } from '@ensemble/core';
import { createTestDatabase, type TestDatabase, testKafkaBrokers, uniqueName, waitFor } from '@ensemble/testkit';
import { runEnsemble, spawnEnsemble } from './testing/ensemble-process.ts';

// Production topology in miniature: an external PostgreSQL and Kafka, the API without a worker,
// and a separate `ensemble worker` process relaying the outbox to Kafka.
describe('ensemble with an external PostgreSQL and Kafka', { timeout: 300_000 }, () => {
  let database: TestDatabase;
  let env: Record<string, string>;
  before(async () => {
    database = await createTestDatabase('cli');
    env = {
      DATABASE_URL: database.url,
      KAFKA_BROKERS: testKafkaBrokers().join(','),
      KAFKA_TOPIC_PARTITIONS: '3',
      ENSEMBLE_HOME: '/nonexistent-so-nothing-embedded-is-used',
    };
  });
  after(async () => {
    await database.drop();
  });

  it('migrates with `ensemble migrate`, idempotently', async () => {
    const first = await runEnsemble(['migrate'], env);
    assert.equal(first.code, 0, first.output);
    assert.match(first.output, /"applied":\[1,2,3/);
    const second = await runEnsemble(['migrate'], env);
    assert.equal(second.code, 0, second.output);
    assert.match(second.output, /"applied":\[\]/);
  });

  it('serves with Kafka as the bus, and a separate worker relays the outbox to Kafka', async () => {
    const server = await spawnEnsemble(['start', '--no-worker'], env);
    const worker = await spawnEnsemble(['worker'], env, { waitForListening: false });
    const received: EventEnvelope[] = [];
    const bus = new KafkaEventBus({
      brokers: testKafkaBrokers(),
      clientId: 'cli-test',
      replicationFactor: 1,
      connectTimeoutMs: 5_000,
      logger: silentLogger,
    });
    try {
      const ready = await fetch(`${server.url}/readyz`);
      const body = (await ready.json()) as { checks: Record<string, { status: string }> };
      assert.equal(ready.status, 200, JSON.stringify(body));
      assert.equal(body.checks['event-bus']?.status, 'up');
      assert.match(server.output(), /"bus":"kafka"/);
      // --no-worker leaves the server only the ingestion consumer (one process writes the embedded index).
      await waitFor('the server to start its consumers', () => server.output().includes('"msg":"worker running"'), {
        timeoutMs: 30_000,
      });
      const running = server
        .output()
        .split('\n')
        .filter((line) => line.includes('"msg":"worker running"'))
        .map((line) => JSON.parse(line) as { consumers: string[] });
      assert.deepEqual(
        running.map((line) => line.consumers),
        [['documents']],
        '--no-worker runs no job or usage consumers',
      );
      await waitFor('the worker to run', () => /ensemble worker running/.test(worker.output()), { timeoutMs: 60_000 });

      // A domain write and its event, committed together as the outbox pattern does.
      const event = createEvent({ type: 'test/outbox.relayed', projectId: 'default', data: { n: 1 } });
      const writer = createDatabase({ url: database.url, poolSize: 1 });
      await writer.db
        .transaction()
        .execute((trx) => appendToOutbox(trx, [{ topic: topics.modelsLifecycle, key: 'k1', value: event }]));
      await writer.close();

      await bus.subscribe({
        groupId: uniqueName('cli-observer'),
        topics: [topics.modelsLifecycle],
        handler: async (message) => {
          received.push(message.value);
        },
      });
      await waitFor('the relayed event on Kafka', () => received.some((e) => e.id === event.id), { timeoutMs: 90_000 });
      assert.deepEqual(
        received.find((e) => e.id === event.id),
        event,
      );
    } finally {
      await bus.close();
      // Both stopped before either is judged: a failed assertion must not leave the other running.
      const workerExit = await worker.stop();
      const serverExit = await server.stop();
      assert.equal(workerExit, 0, worker.output());
      assert.equal(serverExit, 0, server.output());
    }
    assert.match(worker.output(), /"msg":"worker stopped"/);
  });
});
