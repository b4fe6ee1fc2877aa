import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createEvent, EnsembleError } from '@ensemble/core';
import { KafkaEventBus } from './kafka-event-bus.ts';
import { recordingLogger } from './recording-logger.ts';

/** A loopback port nobody listens on: connections to it are refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  assert.ok(address && typeof address === 'object');
  return address.port;
}

async function failsUnavailable(what: string, work: () => Promise<unknown>, withinMs: number, broker: string) {
  const started = Date.now();
  await assert.rejects(work(), (error: unknown) => {
    assert.ok(error instanceof EnsembleError, `${what}: ${String(error)}`);
    assert.equal(error.code, 'event_bus_unavailable', `${what}: ${error.message}`);
    assert.ok(error.message.includes(broker), `${what} names the broker: ${error.message}`);
    return true;
  });
  const elapsed = Date.now() - started;
  assert.ok(elapsed < withinMs, `${what} gave up within ${withinMs} ms (took ${elapsed} ms)`);
}

describe('KafkaEventBus without a reachable broker', { timeout: 120_000 }, () => {
  let broker: string;
  let bus: KafkaEventBus;
  const logger = recordingLogger();

  before(async () => {
    broker = `127.0.0.1:${await closedPort()}`;
    bus = new KafkaEventBus({
      brokers: [broker],
      clientId: 'unreachable',
      replicationFactor: 1,
      connectTimeoutMs: 1_000,
      requestTimeoutMs: 5_000,
      logger,
    });
  });
  after(() => bus.close());

  it('fails ping, publish and ensureTopics with event_bus_unavailable within their bounds', async () => {
    await failsUnavailable('ping()', () => bus.ping(), 8_000, broker);
    const value = createEvent({ type: 'test/record.sent', projectId: 'p1', data: {} });
    await failsUnavailable('publish()', () => bus.publish([{ topic: 'some.topic', key: 'k', value }]), 15_000, broker);
    await failsUnavailable(
      'ensureTopics()',
      () => bus.ensureTopics([{ name: 'some.topic', partitions: 1 }]),
      15_000,
      broker,
    );
  });

  it('gives up a ping when its signal aborts', async () => {
    const controller = new AbortController();
    controller.abort(new Error('readiness deadline'));
    await failsUnavailable('an aborted ping()', () => bus.ping(controller.signal), 1_000, broker);
  });

  it('keeps a subscription trying in the background, and closes it promptly', async () => {
    const subscription = await bus.subscribe({ groupId: 'g', topics: ['some.topic'], handler: async () => {} });
    const deadline = Date.now() + 30_000;
    while (!logger.entries.some((e) => /reconnecting/.test(e.msg ?? '')) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(logger.entries.some((e) => e.level === 'warn' && /reconnecting/.test(e.msg ?? '')));
    const started = Date.now();
    await subscription.close();
    assert.ok(Date.now() - started < 15_000, `close() took ${Date.now() - started} ms`);
  });

  it('refuses to work once closed', async () => {
    const closed = new KafkaEventBus({
      brokers: [broker],
      clientId: 'x',
      replicationFactor: 1,
      connectTimeoutMs: 500,
      logger,
    });
    await closed.close();
    await assert.rejects(
      closed.ping(),
      (error: unknown) => error instanceof EnsembleError && error.code === 'shutting_down',
    );
  });

  it('rejects invalid settings and subscriptions up front', async () => {
    assert.throws(
      () =>
        new KafkaEventBus({ brokers: ['nope'], clientId: 'x', replicationFactor: 1, connectTimeoutMs: 500, logger }),
      (error: unknown) => error instanceof EnsembleError && error.code === 'config_invalid',
    );
    await assert.rejects(
      bus.subscribe({
        groupId: 'g',
        topics: ['t'],
        retry: { initialDelayMs: 1, maxDelayMs: 2, maxAttempts: 3 },
        handler: async () => {},
      }),
      (error: unknown) =>
        error instanceof EnsembleError && error.code === 'validation_failed' && error.field === 'retry.maxAttempts',
    );
    await assert.rejects(
      bus.ensureTopics([{ name: 'bad name', partitions: 1 }]),
      (error: unknown) => error instanceof EnsembleError && error.field === 'topics[0].name',
    );
  });
});
