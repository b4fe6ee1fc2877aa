import type { Clock } from '../ports/clock.ts';
import type { BreakerRegistry } from './breaker-registry.ts';
import { type AttemptFunction, type AttemptInfo, runPolicy } from './policy-runner.ts';
import type { RandomSource } from './random-source.ts';
import type { RouteContext } from './route-context.ts';
import type { RoutePolicy } from './route-policy.ts';
import type { RouteTrace } from './route-trace.ts';
import { createRoutedStream, type FirstChunk } from './routed-stream.ts';

export interface RouterOptions {
  clock: Clock;
  random: RandomSource;
  /** Shared by every call, so a failing target cools down for all of them. */
  breakers: BreakerRegistry;
  /** Expands a target naming another route (already loaded; routing does no I/O). */
  resolveRoute?: (name: string) => RoutePolicy | undefined;
}

export interface RouteResult<T> {
  result: T;
  /** The target that answered (sent as `x-ensemble-target`). */
  target: string;
  trace: RouteTrace;
}

/** May return the iterable directly or after an async set-up (e.g. sending the request). */
export type StreamAttemptFunction<C> = (
  target: string,
  signal: AbortSignal,
  info: AttemptInfo,
) => AsyncIterable<C> | Promise<AsyncIterable<C>>;

export interface RoutedStream<C> {
  /** Starts with the first chunk; read it once. */
  stream: AsyncIterableIterator<C>;
  target: string;
  /** Grows while the stream runs (a mid-stream failure is appended). */
  trace: RouteTrace;
}

export interface Router {
  /**
   * Runs `policy` for one call. Rejects with an `EnsembleError` for the last real failure
   * (`details.trace` lists every attempt), or with the abort reason as soon as `signal` aborts.
   */
  route<T>(
    policy: RoutePolicy,
    context: RouteContext,
    attempt: AttemptFunction<T>,
    signal?: AbortSignal,
  ): Promise<RouteResult<T>>;
  /**
   * Like `route`, for streams: retries and fallbacks happen only until a first chunk arrives
   * (resolving then, so the caller can send headers naming the target); after it, failures
   * surface as `MidStreamError` from the stream.
   */
  routeStream<C>(
    policy: RoutePolicy,
    context: RouteContext,
    attempt: StreamAttemptFunction<C>,
    signal?: AbortSignal,
  ): Promise<RoutedStream<C>>;
}

export function createRouter(options: RouterOptions): Router {
  const { clock, breakers } = options;
  return {
    async route(policy, context, attempt, signal) {
      const trace: RouteTrace = [];
      const success = await runPolicy(options, policy, context, attempt, signal, trace);
      success.release();
      return { result: success.value, target: success.target, trace };
    },

    async routeStream<C>(
      policy: RoutePolicy,
      context: RouteContext,
      attempt: StreamAttemptFunction<C>,
      signal?: AbortSignal,
    ): Promise<RoutedStream<C>> {
      const trace: RouteTrace = [];
      const untilFirstChunk: AttemptFunction<FirstChunk<C>> = async (target, attemptSignal, info) => {
        const iterable = await attempt(target, attemptSignal, info);
        const iterator = iterable[Symbol.asyncIterator]();
        // A timeout or abort before the first chunk must also stop this upstream, not just leave it.
        const close = () => {
          Promise.resolve()
            .then(() => iterator.return?.())
            .catch(() => {});
        };
        attemptSignal.addEventListener('abort', close, { once: true });
        try {
          return { iterator, first: await iterator.next() };
        } finally {
          attemptSignal.removeEventListener('abort', close);
        }
      };
      const success = await runPolicy(options, policy, context, untilFirstChunk, signal, trace);
      const stream = createRoutedStream({ success, clock, breakers, trace, signal });
      return { stream, target: success.target, trace };
    },
  };
}
