import { EnsembleError } from '../errors/ensemble-error.ts';
import type { Clock } from '../ports/clock.ts';
import { classifyFailure } from './attempt-failure.ts';
import type { BreakerRegistry } from './breaker-registry.ts';
import { MidStreamError } from './mid-stream-error.ts';
import { type AttemptSuccess, breakerVerdict, timerStopped } from './policy-runner.ts';
import { raceAbort } from './race-abort.ts';
import type { RouteTrace } from './route-trace.ts';

/** What a stream attempt resolved with: the upstream iterator and its first chunk. */
export interface FirstChunk<C> {
  iterator: AsyncIterator<C>;
  first: IteratorResult<C>;
}

export interface RoutedStreamOptions<C> {
  success: AttemptSuccess<FirstChunk<C>>;
  clock: Clock;
  breakers: BreakerRegistry;
  trace: RouteTrace;
  signal: AbortSignal | undefined;
}

/**
 * The caller's view of the stream that answered. It never lies: it ends cleanly only when the
 * upstream did; a failure after the first chunk (an error, or no chunk within `timeoutMs`) is
 * thrown as a `MidStreamError` and traced; the caller's abort, or the caller stopping early, aborts
 * the upstream's signal and calls its `return()`.
 */
export function createRoutedStream<C>(options: RoutedStreamOptions<C>): AsyncIterableIterator<C> {
  const { success, clock, breakers, trace, signal } = options;
  const { controller, release, target, path, settings } = success;
  const { iterator } = success.value;
  let first: IteratorResult<C> | undefined = success.value.first;
  let chunks = 0;
  let finished = false;
  let upstreamClosed = false;

  const closeUpstream = () => {
    if (upstreamClosed) return;
    upstreamClosed = true;
    Promise.resolve()
      .then(() => iterator.return?.())
      .catch(() => {});
  };
  controller.signal.addEventListener('abort', closeUpstream, { once: true });

  const finish = () => {
    finished = true;
    release();
    controller.signal.removeEventListener('abort', closeUpstream);
  };

  const traceEnd = (startedAt: number, fields: Partial<RouteTrace[number]>) =>
    trace.push({
      target,
      path,
      attempt: 0,
      startedAt,
      endedAt: clock.now(),
      outcome: 'mid_stream_error',
      retryDelayMs: 0,
      chunks,
      ...fields,
    });

  const stream: AsyncIterableIterator<C> = {
    [Symbol.asyncIterator]() {
      return stream;
    },

    async next(): Promise<IteratorResult<C>> {
      if (finished) return { done: true, value: undefined };
      if (first !== undefined) {
        const result = first;
        first = undefined;
        if (result.done) finish();
        else chunks += 1;
        return result;
      }
      const startedAt = clock.now();
      const { timeoutMs } = settings;
      // A timer per chunk only when the node has a timeout; stopped with a shared reason (no DOMException).
      const timer = timeoutMs === undefined ? undefined : new AbortController();
      let idle = false;
      if (timeoutMs !== undefined) {
        clock.sleep(timeoutMs, timer?.signal).then(
          () => {
            idle = true;
            controller.abort(new EnsembleError('timeout', `${target} sent no chunk for ${timeoutMs} ms`));
          },
          () => {},
        );
      }
      try {
        const pending = controller.signal.aborted
          ? Promise.reject(controller.signal.reason)
          : Promise.resolve().then(() => iterator.next());
        const result = await raceAbort(pending, controller.signal);
        if (result.done) finish();
        else chunks += 1;
        return result;
      } catch (error) {
        finish();
        if (signal?.aborted) {
          traceEnd(startedAt, { outcome: 'aborted' });
          controller.abort(signal.reason);
          closeUpstream();
          throw signal.reason;
        }
        const failure = classifyFailure(idle ? controller.signal.reason : error, clock.now());
        if (settings.circuitBreaker !== undefined) {
          breakers.record(target, settings.circuitBreaker, breakerVerdict(failure), {
            allowed: true,
            state: 'closed',
            probe: false,
          });
        }
        traceEnd(startedAt, {
          outcome: 'mid_stream_error',
          errorCode: failure.code,
          status: failure.status,
          message: failure.message,
        });
        if (!controller.signal.aborted) controller.abort(failure.error);
        closeUpstream();
        throw new MidStreamError(
          failure.code,
          `${target} failed after ${chunks} chunk(s): ${failure.message}`,
          { target, chunksDelivered: chunks },
          { cause: failure.error, retryable: false, details: { target, chunks, trace } },
        );
      } finally {
        timer?.abort(timerStopped);
      }
    },

    async return(): Promise<IteratorResult<C>> {
      // The caller stopped reading (e.g. the client disconnected): stop the upstream too.
      if (!finished) {
        finish();
        controller.abort(new DOMException('the caller stopped reading the stream', 'AbortError'));
        closeUpstream();
      }
      return { done: true, value: undefined };
    },
  };
  return stream;
}
