import { EnsembleError, type JobItemError } from '@ensemble/core';

/** A failed attempt as a result records it, and how soon the upstream said to try again. */
export interface AttemptFailure {
  error: JobItemError;
  retryAfterSeconds: number | undefined;
}

/**
 * What one attempt's error means for the item: Ensemble's errors keep their code and retryable
 * flag (a refused request is not retried, an outage or a 429 is); the item's own timeout is a
 * retryable `timeout`; anything else is an `internal_error` that another attempt will not fix.
 */
export function attemptFailure(error: unknown, timedOut: boolean, timeoutMs: number): AttemptFailure {
  if (timedOut) {
    return {
      error: { code: 'timeout', message: `the item did not finish within ${timeoutMs} ms`, retryable: true },
      retryAfterSeconds: undefined,
    };
  }
  if (EnsembleError.isInstance(error)) {
    return {
      error: { code: error.code, message: error.message, retryable: error.retryable },
      retryAfterSeconds: error.retryAfterSeconds,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { error: { code: 'internal_error', message, retryable: false }, retryAfterSeconds: undefined };
}
