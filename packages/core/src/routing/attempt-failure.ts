import { EnsembleError } from '../errors/ensemble-error.ts';
import { type ErrorCode, errorCatalogue } from '../errors/error-catalogue.ts';

/** A failed attempt, reduced to what routing decisions need. */
export interface AttemptFailure {
  code: ErrorCode;
  /** The upstream's HTTP status when known (`details.upstreamStatus`), else the code's own status. */
  status: number;
  retryable: boolean;
  /** From `Retry-After` / `retry-after-ms`, when the upstream sent one. */
  retryAfterMs: number | undefined;
  message: string;
  error: unknown;
}

/**
 * Reads an attempt's error: an `EnsembleError` as it is, an SDK error with `status` and `headers`
 * (OpenAI's and Anthropic's SDKs throw these) by its status, anything else (a reset socket, a DNS
 * failure) as a retryable `upstream_error`.
 */
export function classifyFailure(error: unknown, now: number): AttemptFailure {
  const message = error instanceof Error ? error.message : String(error);
  if (EnsembleError.isInstance(error)) {
    const upstreamStatus = error.details?.upstreamStatus;
    return {
      code: error.code,
      status: typeof upstreamStatus === 'number' ? upstreamStatus : error.httpStatus,
      retryable: error.retryable,
      retryAfterMs:
        error.retryAfterSeconds === undefined
          ? readRetryAfter(error, now)
          : Math.max(0, error.retryAfterSeconds * 1000),
      message,
      error,
    };
  }
  const status = readStatus(error);
  if (status === undefined) {
    return { code: 'upstream_error', status: 502, retryable: true, retryAfterMs: undefined, message, error };
  }
  const code = codeForStatus(status);
  return {
    code,
    status,
    retryable: errorCatalogue[code].retryable,
    retryAfterMs: readRetryAfter(error, now),
    message,
    error,
  };
}

function codeForStatus(status: number): ErrorCode {
  if (status === 429) return 'rate_limited';
  if (status === 408) return 'request_timeout';
  if (status === 401 || status === 403) return 'upstream_auth_failed';
  if (status >= 400 && status < 500) return 'upstream_bad_request';
  if (status === 504) return 'timeout';
  return 'upstream_error';
}

function readStatus(error: unknown): number | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const record = error as { status?: unknown; statusCode?: unknown };
  const status = typeof record.status === 'number' ? record.status : record.statusCode;
  return typeof status === 'number' && status >= 400 && status <= 599 ? status : undefined;
}

/** `retryAfterMs` on the error, or its `headers`' `retry-after-ms` / `retry-after` (seconds or an HTTP date). */
function readRetryAfter(error: unknown, now: number): number | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const record = error as { retryAfterMs?: unknown; headers?: unknown };
  if (typeof record.retryAfterMs === 'number' && record.retryAfterMs >= 0) return record.retryAfterMs;
  const milliseconds = Number(header(record.headers, 'retry-after-ms'));
  if (header(record.headers, 'retry-after-ms') !== undefined && Number.isFinite(milliseconds) && milliseconds >= 0) {
    return milliseconds;
  }
  const value = header(record.headers, 'retry-after');
  if (value === undefined) return undefined;
  if (/^\s*\d+(?:\.\d+)?\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function header(headers: unknown, name: string): string | undefined {
  if (headers === null || typeof headers !== 'object') return undefined;
  const getter = (headers as { get?: unknown }).get;
  if (typeof getter === 'function') {
    const value: unknown = getter.call(headers, name);
    return typeof value === 'string' ? value : undefined;
  }
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    if (typeof value === 'string') return value;
    if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  }
  return undefined;
}
