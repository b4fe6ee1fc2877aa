import { type DependencyCheck, EnsembleError, type ErrorCode } from '@ensemble/core';
import type pg from 'pg';
import { mapDatabaseError } from './database-errors.ts';

/**
 * Runs `select 1` on `pool`, failing with `code` (503) when PostgreSQL cannot be reached or does not
 * answer before `signal` aborts. A query left running after the abort ends by pg's own timeouts.
 */
export async function pingDatabase(
  pool: pg.Pool,
  signal?: AbortSignal,
  code: ErrorCode = 'database_unavailable',
): Promise<void> {
  if (signal?.aborted) throw deadlineError(code);
  // Whatever makes `select 1` fail means the database cannot serve.
  const query = pool.query('select 1').catch((error: unknown) => {
    const mapped = mapDatabaseError(error, code);
    throw mapped instanceof EnsembleError
      ? mapped
      : new EnsembleError(code, 'the database check failed', { cause: error });
  });
  if (!signal) {
    await query;
    return;
  }
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(deadlineError(code));
    signal.addEventListener('abort', onAbort, { once: true });
    query.then(() => resolve(), reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The readiness check named `database`. */
export function createDatabaseCheck(pool: pg.Pool): DependencyCheck {
  return {
    name: 'database',
    check: (signal) => pingDatabase(pool, signal),
  };
}

function deadlineError(code: ErrorCode): EnsembleError {
  return new EnsembleError(code, 'the database did not answer before the deadline');
}
