import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createEvent, EnsembleError, type Subscription } from '@ensemble/core';
import { type OwnKafkaBroker, startOwnKafkaBroker, uniqueName, waitFor } from '@ensemble/testkit';
import { KafkaEventBus } from './kafka-event-bus.ts';
import { recordingLogger } from './recording-logger.ts';

async function rejectsUnavailable(work: Promise<unknown>, withinMs: number, what: string): Promise<EnsembleError> {
  const started = Date.now();
  const error = await work.then(
    () => assert.fail(`${what} succeeded while the broker was down`),
    (e: unknown) => e,
  );
  const elapsed = Date.now() - started;
  assert.ok(error instanceof EnsembleError, `${what} rejects with an EnsembleError, got ${String(error)}`);
  assert.equal(error.code, 'event_bus_unavailable', `${what}: ${error.message}`);
  assert.ok(elapsed < withinMs, `${what} failed within ${withinMs} ms (took ${elapsed} ms)`);
  return error;
}

describe('KafkaEventBus through a broker outage', { timeout: 420_000 }, () => {
  let broker: OwnKafkaBroker | undefined;
  let address: string;
  let bus: KafkaEventBus;
  let subscription: Subscription | undefined;
  const logger = recordingLogger();

  before(async () => {
    broker = await startOwnKafkaBroker();
    address = broker.address;
    bus = new KafkaEventBus({
      brokers: [address],
      clientId: 'outage',
      replicationFactor: 1,
      connectTimeoutMs: 2_000,
      requestTimeoutMs: 10_000,
      // The broker's minimum: the member that vanished with the broker is expired soon after it returns.
      sessionTimeoutMs: 6_000,
      logger,
    });
  });
  after(async () => {
    await subscription?.close();
    await bus?.close();
    await broker?.dispose();
  });

  it('fails calls fast while the broker is down, then resumes and handles every acknowledged record', async () => {
    const topic = uniqueName('outage').replaceAll('_', '.');
    await bus.ensureTopics([{ name: topic, partitions: 2 }]);
    const handled = new Map<string, number>();
    subscription = await bus.subscribe({
      groupId: uniqueName('g'),
      topics: [topic],
      handler: async (message) => {
        handled.set(message.value.id, (handled.get(message.value.id) ?? 0) + 1);
      },
    });

    // A producer that keeps publishing through the outage; only acknowledged records must arrive.
    const acknowledged: string[] = [];
    const failures: unknown[] = [];
    let producing = true;
    let seq = 0;
    const producer = (async () => {
      while (producing) {
        const value = createEvent({ type: 'test/record.sent', projectId: 'p1', data: { seq: seq++ } });
        try {
          await bus.publish([{ topic, key: `k${seq % 7}`, value }]);
          acknowledged.push(value.id);
        } catch (error) {
          failures.push(error);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    await waitFor('records flowing before the outage', () => acknowledged.length >= 30 && handled.size >= 20, {
      timeoutMs: 60_000,
    });
    await broker?.stop();
    const acknowledgedBeforeRestart = acknowledged.length;

    await rejectsUnavailable(bus.ping(), 10_000, 'ping()');
    const error = await rejectsUnavailable(
      bus.publish([{ topic, key: 'k', value: createEvent({ type: 'test/record.sent', projectId: 'p1', data: {} }) }]),
      20_000,
      'publish()',
    );
    assert.ok(error.message.includes(address), `the error names the broker: ${error.message}`);
    assert.deepEqual(error.details?.brokers, [address]);

    assert.equal(await broker?.start(), address, 'the broker comes back at the same address');
    await bus.ping();
    await waitFor('publishing to resume', () => acknowledged.length >= acknowledgedBeforeRestart + 30, {
      timeoutMs: 120_000,
    });
    producing = false;
    await producer;

    await waitFor(
      `all ${acknowledged.length} acknowledged records handled`,
      () => acknowledged.every((id) => handled.has(id)),
      { timeoutMs: 180_000, intervalMs: 200 },
    );
    const lost = acknowledged.filter((id) => !handled.has(id));
    assert.deepEqual(lost, [], 'no acknowledged record was lost');
    assert.ok(failures.length > 0, 'some publishes failed during the outage');
    for (const failure of failures) {
      assert.ok(failure instanceof EnsembleError && failure.code === 'event_bus_unavailable', String(failure));
    }
    assert.ok(
      logger.entries.some((e) => e.level === 'warn' && /reconnecting/.test(e.msg ?? '')),
      'the subscription reported that it lost the broker',
    );
  });
});
