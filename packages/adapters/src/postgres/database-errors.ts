import { EnsembleError, type ErrorCode } from '@ensemble/core';

/** Socket-level failures: the server is down, restarting or unreachable. */
const networkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs that say the connection, not the query, failed: class 08 (connection exception),
 * 57P01–57P03 and 57P05 (shutdown, crash, starting up, idle session timeout), 53300 (too many
 * connections) and 57014 (statement_timeout: the server did not finish in time).
 */
const unavailableStates = /^(08...|57P0[1235]|53300|57014)$/;

/** What pg itself raises when a connection dies, or its own timeouts fire. */
const driverMessages = [
  'Connection terminated',
  'connection timeout',
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'is not queryable',
  'Cannot use a pool after calling end',
];

/** True when `error` means the database cannot be reached right now (as opposed to a bad query). */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (depth > 5 || typeof error !== 'object' || error === null) return false;
  if (error instanceof EnsembleError) return error.code === 'database_unavailable';
  const { code, message, errors, cause } = error as {
    code?: unknown;
    message?: unknown;
    errors?: unknown;
    cause?: unknown;
  };
  if (typeof code === 'string' && (networkCodes.has(code) || unavailableStates.test(code))) return true;
  if (typeof message === 'string' && driverMessages.some((text) => message.includes(text))) return true;
  // Node's connect with several addresses (happy eyeballs) rejects with an AggregateError.
  if (Array.isArray(errors) && errors.some((each) => isDatabaseUnavailable(each, depth + 1))) return true;
  return isDatabaseUnavailable(cause, depth + 1);
}

/**
 * Turns a connection-level failure into an `EnsembleError` (503, retryable) so a request fails fast
 * while PostgreSQL is down; any other error is returned unchanged. pg drops the broken client and
 * connects afresh on the next checkout, so requests recover by themselves once the server is back.
 */
export function mapDatabaseError(error: unknown, code: ErrorCode = 'database_unavailable'): unknown {
  if (error instanceof EnsembleError) {
    // Already mapped lower down (Kysely's pool); re-badge it for the event bus.
    const rebadge = error.code === 'database_unavailable' && code !== error.code;
    return rebadge ? new EnsembleError(code, error.message, { cause: error, retryAfterSeconds: 1 }) : error;
  }
  if (!isDatabaseUnavailable(error)) return error;
  const reason = describe(error);
  return new EnsembleError(code, `the database cannot be reached: ${reason}`, { cause: error, retryAfterSeconds: 1 });
}

/** Runs `operation`, mapping connection-level failures with `mapDatabaseError`. */
export async function withDatabaseErrors<T>(operation: () => Promise<T>, code?: ErrorCode): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw mapDatabaseError(error, code);
  }
}

function describe(error: unknown): string {
  const { code, message } = error as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' && message.length > 0 ? message : String(error);
  return typeof code === 'string' && !text.includes(code) ? `${text} (${code})` : text;
}
