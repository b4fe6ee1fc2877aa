import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EnsembleError } from '../errors/ensemble-error.ts';
import { drive, flush, httpError } from './drive-clock.test-helper.ts';
import { createInMemoryBreakerRegistry } from './in-memory-breaker-registry.ts';
import { createManualClock } from './manual-clock.ts';
import { MidStreamError } from './mid-stream-error.ts';
import { parseRoutePolicy } from './parse-route-policy.ts';
import type { RoutePolicyInput } from './route-policy.ts';
import { createRouter } from './router.ts';

type Event = string | Error | 'hang';

/** An upstream stream that plays `events` and records how it was stopped. */
function upstream(events: Event[], signal: AbortSignal) {
  const state = { closed: false, signal };
  async function* play(): AsyncGenerator<string> {
    try {
      for (const event of events) {
        if (event === 'hang') {
          await new Promise((_, reject) => {
            signal.addEventListener('abort', () => reject(signal.reason), { once: true });
          });
        } else if (event instanceof Error) {
          throw event;
        } else {
          yield event;
        }
      }
    } finally {
      state.closed = true;
    }
  }
  return { iterable: play(), state };
}

function setup(plan: Record<string, Event[]>) {
  const clock = createManualClock();
  const breakers = createInMemoryBreakerRegistry({ clock });
  const router = createRouter({ clock, random: () => 0.5, breakers });
  const started: { target: string; state: { closed: boolean; signal: AbortSignal } }[] = [];
  const attempt = (target: string, signal: AbortSignal) => {
    const { iterable, state } = upstream(plan[target] ?? [], signal);
    started.push({ target, state });
    return iterable;
  };
  const stream = (input: RoutePolicyInput, signal?: AbortSignal) =>
    router.routeStream(parseRoutePolicy(input), {}, attempt, signal);
  return { clock, stream, started, breakers };
}

async function collect(stream: AsyncIterable<string>): Promise<{ chunks: string[]; error: unknown }> {
  const chunks: string[] = [];
  try {
    for await (const chunk of stream) chunks.push(chunk);
    return { chunks, error: undefined };
  } catch (error) {
    return { chunks, error };
  }
}

describe('routeStream', () => {
  it('passes a healthy stream through and ends cleanly', async () => {
    const { clock, stream } = setup({ a: ['1', '2', '3'] });
    const routed = await drive(clock, stream('a'));
    assert.equal(routed.target, 'a');
    assert.deepEqual(await collect(routed.stream), { chunks: ['1', '2', '3'], error: undefined });
  });

  it('falls back when a stream fails before its first chunk', async () => {
    const { clock, stream, started } = setup({ a: [httpError(503)], b: ['x', 'y'] });
    const routed = await drive(clock, stream({ strategy: 'fallback', targets: ['a', 'b'] }));
    assert.equal(routed.target, 'b');
    assert.deepEqual((await collect(routed.stream)).chunks, ['x', 'y']);
    assert.deepEqual(
      routed.trace.map((record) => [record.target, record.outcome]),
      [
        ['a', 'failure'],
        ['b', 'success'],
      ],
    );
    assert.deepEqual(
      started.map((entry) => entry.target),
      ['a', 'b'],
    );
  });

  it('falls back when the first chunk does not come in time, closing the slow upstream', async () => {
    const { clock, stream, started } = setup({ a: ['hang'], b: ['x'] });
    const routed = await drive(clock, stream({ strategy: 'fallback', timeoutMs: 500, targets: ['a', 'b'] }));
    assert.equal(routed.target, 'b');
    await flush();
    assert.ok(started[0]?.state.signal.aborted);
    assert.equal(started[0]?.state.closed, true);
    assert.equal(routed.trace[0]?.outcome, 'timeout');
  });

  it('surfaces a failure after the first chunk as a MidStreamError: no retry, no fallback, no clean end', async () => {
    const { clock, stream, started, breakers } = setup({ a: ['1', '2', httpError(502)], b: ['never'] });
    const routed = await drive(
      clock,
      stream({
        strategy: 'fallback',
        retry: { maxAttempts: 3 },
        circuitBreaker: { failureThreshold: 1 },
        targets: ['a', 'b'],
      }),
    );
    const { chunks, error } = await collect(routed.stream);
    assert.deepEqual(chunks, ['1', '2']);
    assert.ok(MidStreamError.isMidStream(error));
    assert.equal(error.code, 'upstream_error');
    assert.equal(error.chunksDelivered, 2);
    assert.equal(error.target, 'a');
    assert.equal(error.retryable, false);
    assert.deepEqual(
      started.map((entry) => entry.target),
      ['a'],
    );
    assert.deepEqual(
      routed.trace.map((record) => [record.target, record.outcome, record.errorCode, record.chunks]),
      [
        ['a', 'success', undefined, undefined],
        ['a', 'mid_stream_error', 'upstream_error', 2],
      ],
    );
    assert.equal(breakers.snapshot()[0]?.state, 'open', 'a mid-stream failure counts against the target');
    assert.deepEqual(await routed.stream.next(), { done: true, value: undefined });
  });

  it('times out a stream that stalls after its first chunk, aborting the upstream', async () => {
    const { clock, stream, started } = setup({ a: ['1', 'hang'] });
    const routed = await drive(clock, stream({ strategy: 'single', target: 'a', timeoutMs: 1_000 }));
    const { chunks, error } = await drive(clock, collect(routed.stream));
    assert.deepEqual(chunks, ['1']);
    assert.ok(MidStreamError.isMidStream(error));
    assert.equal(error.code, 'timeout');
    assert.ok(started[0]?.state.signal.aborted);
    assert.equal(routed.trace.at(-1)?.endedAt, 1_000);
  });

  it('aborts the upstream when the caller disconnects mid-stream', async () => {
    const { clock, stream, started } = setup({ a: ['1', 'hang'] });
    const controller = new AbortController();
    const routed = await drive(clock, stream('a', controller.signal));
    assert.deepEqual(await routed.stream.next(), { done: false, value: '1' });
    const pending = routed.stream.next();
    await flush();
    controller.abort();
    await assert.rejects(pending, { name: 'AbortError' });
    await flush();
    assert.ok(started[0]?.state.signal.aborted);
    assert.equal(started[0]?.state.closed, true);
    assert.equal(routed.trace.at(-1)?.outcome, 'aborted');
  });

  it('aborts the upstream when the caller aborts before the first chunk', async () => {
    const { stream, started } = setup({ a: ['hang'], b: ['x'] });
    const controller = new AbortController();
    const pending = stream({ strategy: 'fallback', targets: ['a', 'b'] }, controller.signal);
    await flush();
    controller.abort();
    await assert.rejects(pending, { name: 'AbortError' });
    await flush();
    assert.equal(started.length, 1);
    assert.equal(started[0]?.state.closed, true);
  });

  it('stops the upstream when the caller stops reading', async () => {
    const { clock, stream, started } = setup({ a: ['1', '2', '3'] });
    const routed = await drive(clock, stream('a'));
    for await (const chunk of routed.stream) if (chunk === '1') break;
    await flush();
    assert.ok(started[0]?.state.signal.aborted);
    assert.equal(started[0]?.state.closed, true);
  });

  it('treats a stream that ends without chunks as an empty answer', async () => {
    const { clock, stream } = setup({ a: [] });
    const routed = await drive(clock, stream('a'));
    assert.deepEqual(await collect(routed.stream), { chunks: [], error: undefined });
  });

  it('rejects like route() when every target fails before a chunk', async () => {
    const { clock, stream } = setup({ a: [httpError(500)], b: [httpError(429)] });
    await assert.rejects(
      drive(clock, stream({ strategy: 'fallback', targets: ['a', 'b'] })),
      (error: EnsembleError) => {
        assert.equal(error.code, 'rate_limited');
        return true;
      },
    );
  });
});
