import type { ErrorCode } from '../errors/error-catalogue.ts';
import type { BreakerState } from './breaker-registry.ts';

/**
 * `failure`: the target answered with an error; `timeout`: it did not answer in time;
 * `circuit_open`: skipped, its breaker is open; `aborted`: the caller went away;
 * `mid_stream_error`: a stream broke after its first chunk reached the caller.
 */
export type AttemptOutcome = 'success' | 'failure' | 'timeout' | 'circuit_open' | 'aborted' | 'mid_stream_error';

/** One try of one target (or one skip of it), in the order they happened. */
export interface AttemptRecord {
  target: string;
  /** Where in the policy the target sits, e.g. `policy.targets[1].conditions[0].use`. */
  path: string;
  /** 1 for the first try of this target at this path, 2 for its first retry, … */
  attempt: number;
  startedAt: number;
  endedAt: number;
  outcome: AttemptOutcome;
  errorCode?: ErrorCode;
  /** The upstream HTTP status when known. */
  status?: number;
  message?: string;
  /** The backoff or `Retry-After` wait spent just before this try. */
  retryDelayMs: number;
  /** The breaker's state when the try was admitted (absent when the node has no breaker). */
  breakerState?: BreakerState;
  /** Chunks the caller had received (streams). */
  chunks?: number;
}

/** Every attempt of one routed call. For streams it grows until the stream ends. */
export type RouteTrace = AttemptRecord[];
