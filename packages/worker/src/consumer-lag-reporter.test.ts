import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EmbeddedEventBus } from '@ensemble/adapters/embedded';
import { createDatabase, runMigrations } from '@ensemble/adapters/postgres';
import { createEvent, EnsembleError, type EventBus, silentLogger } from '@ensemble/core';
import { createTestDatabase, type TestDatabase, uniqueName, waitFor } from '@ensemble/testkit';
import { consumerLagGroups } from './consumer-lag-groups.ts';
import { ConsumerLagReporter } from './consumer-lag-reporter.ts';

/** Collects what the reporter writes, one entry per write. */
class CapturedOutput {
  readonly writes: string[] = [];
  write(line: string): boolean {
    this.writes.push(line);
    return true;
  }
  documents(): Array<Record<string, unknown>> {
    return this.writes.map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}

/** Checks one document against the EMF specification's rules for what the reporter writes. */
function assertEmf(line: string, group: string, lag: number): void {
  assert.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'), 'one line per document');
  const document = JSON.parse(line) as {
    _aws: { Timestamp: unknown; CloudWatchMetrics: unknown };
    ConsumerGroup: unknown;
    KafkaConsumerLag: unknown;
  };
  assert.deepEqual(Object.keys(document).sort(), ['ConsumerGroup', 'KafkaConsumerLag', '_aws']);
  assert.ok(Number.isInteger(document._aws.Timestamp), 'Timestamp: epoch milliseconds');
  assert.ok(Math.abs((document._aws.Timestamp as number) - Date.now()) < 60_000);
  assert.deepEqual(document._aws.CloudWatchMetrics, [
    {
      Namespace: 'Ensemble',
      Dimensions: [['ConsumerGroup']],
      Metrics: [{ Name: 'KafkaConsumerLag', Unit: 'Count' }],
    },
  ]);
  assert.equal(document.ConsumerGroup, group, 'the dimension value is a string member of the root');
  assert.equal(document.KafkaConsumerLag, lag, 'the metric value is a number member of the root');
}

describe('ConsumerLagReporter', { timeout: 120_000 }, () => {
  let testDatabase: TestDatabase;
  let bus: EventBus;
  before(async () => {
    testDatabase = await createTestDatabase('lag_reporter');
    const database = createDatabase({ url: testDatabase.url });
    await runMigrations(database);
    bus = new EmbeddedEventBus({ database, ownsDatabase: true });
  });
  after(async () => {
    await bus.close();
    await testDatabase.drop();
  });

  it('writes each group total lag as an EMF line every interval, and stops cleanly', async () => {
    const topic = uniqueName('lag.reporter').replaceAll('_', '.');
    const other = uniqueName('lag.reporter.other').replaceAll('_', '.');
    await bus.ensureTopics([
      { name: topic, partitions: 3 },
      { name: other, partitions: 1 },
    ]);
    const event = (t: string, i: number) => ({
      topic: t,
      key: `k${i}`,
      value: createEvent({ type: 'test/lag.happened', projectId: 'p1', data: { i } }),
    });
    await bus.publish(Array.from({ length: 12 }, (_, i) => event(topic, i)));
    await bus.publish(Array.from({ length: 2 }, (_, i) => event(other, i)));
    const jobs = uniqueName('jobs');
    const usage = uniqueName('usage');
    // Consume 12 − 7 = 5 from `jobs`; `usage` has consumed nothing.
    let handled = 0;
    const subscription = await bus.subscribe({
      groupId: jobs,
      topics: [topic],
      retry: { initialDelayMs: 20, maxDelayMs: 50 },
      handler: async () => {
        if (handled >= 7) throw new Error('not now');
        handled++;
      },
    });
    await waitFor('7 handled and committed', async () => {
      const rows = await bus.consumerLag(jobs, [topic]);
      return rows.reduce((sum, row) => sum + row.lag, 0) === 5;
    });
    await subscription.close();

    const handler = async () => {};
    const groups = consumerLagGroups([
      { name: 'jobs-a', groupId: jobs, topics: [topic], handler },
      { name: 'jobs-b', groupId: jobs, topics: [topic], handler },
      { name: 'usage', groupId: usage, topics: [topic, other], handler },
    ]);
    assert.deepEqual(groups, [
      { groupId: jobs, topics: [topic] },
      { groupId: usage, topics: [topic, other] },
    ]);
    const output = new CapturedOutput();
    const reporter = new ConsumerLagReporter({
      bus,
      groups: () => groups,
      intervalSeconds: 0.05,
      logger: silentLogger,
      output,
    });
    reporter.start();
    await waitFor('three rounds', () => output.writes.length >= 6);
    await reporter.stop();
    const written = output.writes.length;
    for (const line of output.writes) {
      const group = (JSON.parse(line) as { ConsumerGroup: string }).ConsumerGroup;
      assertEmf(line, group, group === jobs ? 5 : 14);
    }
    assert.ok(output.documents().some((d) => d.ConsumerGroup === usage));
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(output.writes.length, written, 'nothing is written after stop');
    await reporter.stop();
  });

  it('writes nothing when there are no consumer groups', async () => {
    const output = new CapturedOutput();
    const reporter = new ConsumerLagReporter({
      bus,
      groups: () => consumerLagGroups([]),
      intervalSeconds: 0.02,
      logger: silentLogger,
      output,
    });
    reporter.start();
    await new Promise((resolve) => setTimeout(resolve, 150));
    await reporter.stop();
    assert.deepEqual(output.writes, []);
  });

  it('skips a group whose lag cannot be read, keeps the others, and stops while a read hangs', async () => {
    const output = new CapturedOutput();
    const failing: Pick<EventBus, 'consumerLag'> = {
      consumerLag: async (groupId, _topics, signal) => {
        if (groupId === 'down') throw new EnsembleError('event_bus_unavailable', 'the bus is down (test)');
        if (groupId === 'hangs') {
          return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted'))));
        }
        return [{ topic: 't', partition: 0, committedOffset: '3', endOffset: '10', lag: 7 }];
      },
    };
    const reporter = new ConsumerLagReporter({
      bus: failing,
      groups: () => [
        { groupId: 'down', topics: ['t'] },
        { groupId: 'ok', topics: ['t'] },
        { groupId: 'hangs', topics: ['t'] },
      ],
      intervalSeconds: 60,
      logger: silentLogger,
      output,
    });
    reporter.start();
    await waitFor('the ok group written', () => output.writes.length >= 1);
    const started = Date.now();
    await reporter.stop();
    assert.ok(Date.now() - started < 1_000, 'stop does not wait for the hanging read');
    assert.equal(output.writes.length, 1);
    assertEmf(output.writes[0] as string, 'ok', 7);
  });

  it('refuses a non-positive interval', () => {
    assert.throws(
      () => new ConsumerLagReporter({ bus, groups: () => [], intervalSeconds: 0, logger: silentLogger }),
      /intervalSeconds/,
    );
  });
});
