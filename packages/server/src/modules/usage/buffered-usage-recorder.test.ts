import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { eventEnvelopeSchema, type PublishRecord, type UsageEvent, usageEventSchema } from '@ensemble/core';
import { waitFor } from '@ensemble/testkit';
import { Registry } from 'prom-client';
import { BufferedUsageRecorder } from './buffered-usage-recorder.ts';
import { usageRecorderCollector } from './usage-recorder-metrics.ts';

function usageEvent(projectId = 'default'): UsageEvent {
  return {
    requestId: randomUUID(),
    ts: new Date().toISOString(),
    projectId,
    keyId: null,
    endpoint: 'chat',
    requested: 'm',
    route: null,
    target: 'm@1',
    provider: 'openai-compatible',
    inputTokens: 1,
    outputTokens: 1,
    costUsd: null,
    latencyMs: 1,
    timeToFirstTokenMs: null,
    stream: false,
    status: 200,
    errorCode: null,
    cacheHit: false,
    attempts: 1,
  };
}

/** The bus's `publish` as a script: fails while `failing` says so, and keeps every call. */
class ScriptedBus {
  readonly calls: PublishRecord[][] = [];
  readonly delivered: PublishRecord[] = [];
  failing: (call: number) => boolean = () => false;
  async publish(records: readonly PublishRecord[]): Promise<void> {
    this.calls.push([...records]);
    if (this.failing(this.calls.length)) throw new Error('broker unreachable');
    this.delivered.push(...records);
  }
}

describe('BufferedUsageRecorder', () => {
  it('publishes full batches at once and the rest after the linger, as usage envelopes keyed by project', async () => {
    const bus = new ScriptedBus();
    const recorder = new BufferedUsageRecorder({ bus, batchSize: 500, lingerMs: 50 });
    const events = Array.from({ length: 1_234 }, (_, i) => usageEvent(`p${i % 3}`));
    for (const event of events) recorder.record(event);
    await waitFor('every event published', () => bus.delivered.length === 1_234);
    assert.deepEqual(
      bus.calls.map((call) => call.length),
      [500, 500, 234],
    );
    bus.delivered.forEach((record, i) => {
      const event = events[i] as UsageEvent;
      assert.equal(record.topic, 'ensemble.usage');
      assert.equal(record.key, event.projectId);
      eventEnvelopeSchema.parse(record.value);
      assert.equal(record.value.type, 'usage/call.recorded');
      assert.equal(record.value.projectId, event.projectId);
      assert.equal(record.value.traceId, event.requestId);
      assert.deepEqual(usageEventSchema.parse(record.value.data), event);
    });
    assert.deepEqual(recorder.stats(), {
      recorded: 1_234,
      published: 1_234,
      dropped: 0,
      publishFailures: 0,
      buffered: 0,
    });
  });

  it('retries a failed batch with the same envelopes, so the ledger can tell a retry from a new call', async () => {
    const bus = new ScriptedBus();
    bus.failing = (call) => call <= 3;
    const recorder = new BufferedUsageRecorder({
      bus,
      batchSize: 10,
      lingerMs: 5,
      retry: { initialDelayMs: 5, maxDelayMs: 20 },
    });
    for (let i = 0; i < 10; i++) recorder.record(usageEvent());
    await waitFor('the batch delivered', () => bus.delivered.length === 10);
    const ids = bus.calls.map((call) => call.map((record) => record.value.id).join());
    assert.equal(ids.length, 4);
    assert.equal(new Set(ids).size, 1, 'every attempt sent the same envelopes');
    assert.equal(recorder.stats().publishFailures, 3);
    assert.equal(recorder.stats().published, 10);
  });

  it('never blocks or throws while the bus is away: it holds up to maxBuffered, then drops and counts', async () => {
    const bus = new ScriptedBus();
    bus.failing = () => true;
    const recorder = new BufferedUsageRecorder({
      bus,
      batchSize: 20,
      lingerMs: 1,
      maxBuffered: 100,
      retry: { initialDelayMs: 5, maxDelayMs: 10 },
    });
    for (let i = 0; i < 150; i++) recorder.record(usageEvent());
    await waitFor('a few failed publishes', () => bus.calls.length >= 3);
    assert.deepEqual(
      { ...recorder.stats(), publishFailures: 0 },
      { recorded: 100, published: 0, dropped: 50, publishFailures: 0, buffered: 100 },
    );
    // The bus comes back: what was held goes out, nothing more is lost.
    bus.failing = () => false;
    await waitFor('the held events published', () => recorder.stats().published === 100);
    assert.equal(new Set(bus.delivered.map((record) => record.value.id)).size, 100);
    assert.equal(recorder.stats().buffered, 0);
  });

  it('flushes at once on shutdown, counts what a dead bus kept back as dropped, and refuses records after close', async () => {
    const bus = new ScriptedBus();
    const recorder = new BufferedUsageRecorder({ bus, batchSize: 500, lingerMs: 60_000 });
    for (let i = 0; i < 7; i++) recorder.record(usageEvent());
    await recorder.flush();
    assert.equal(bus.delivered.length, 7, 'the linger was not waited for');

    bus.failing = () => true;
    for (let i = 0; i < 5; i++) recorder.record(usageEvent());
    const started = Date.now();
    await recorder.close(300);
    assert.ok(Date.now() - started < 5_000, 'the flush kept to its deadline');
    assert.equal(recorder.stats().dropped, 5);
    assert.equal(recorder.stats().buffered, 0);
    recorder.record(usageEvent());
    assert.equal(recorder.stats().dropped, 6);
  });

  it('shows its counts on /metrics', async () => {
    const bus = new ScriptedBus();
    const recorder = new BufferedUsageRecorder({ bus, maxBuffered: 2, lingerMs: 60_000 });
    for (let i = 0; i < 3; i++) recorder.record(usageEvent());
    const registry = new Registry();
    usageRecorderCollector(recorder).register(registry);
    const text = await registry.metrics();
    assert.match(text, /^ensemble_usage_events_recorded_total 2$/m);
    assert.match(text, /^ensemble_usage_events_dropped_total 1$/m);
    assert.match(text, /^ensemble_usage_events_buffered 2$/m);
    assert.match(text, /^ensemble_usage_events_published_total 0$/m);
    assert.match(text, /^ensemble_usage_publish_failures_total 0$/m);
    await recorder.close();
    assert.match(await registry.metrics(), /^ensemble_usage_events_published_total 2$/m);
  });
});
