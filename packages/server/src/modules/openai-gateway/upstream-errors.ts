import { EnsembleError, type ErrorCode } from '@ensemble/core';

type Headers = Record<string, string | string[] | undefined>;

/**
 * An upstream refused the request itself (a 4xx other than 401/403/408/429): the client gets the
 * upstream's status and OpenAI-shaped body as they are, since they say what is wrong with the
 * request (`context_length_exceeded` on `messages`, an unknown parameter …). Not retried, not
 * fallen back from by default (routing reads `details.upstreamStatus`).
 */
export class UpstreamRefusal extends EnsembleError {
  readonly status: number;
  readonly body: Buffer;
  readonly contentType: string;

  constructor(target: string, status: number, body: Buffer, contentType: string) {
    super('upstream_bad_request', `${target} refused the request (${status}): ${upstreamMessage(body)}`, {
      details: { upstreamStatus: status, target },
    });
    this.status = status;
    this.body = body;
    this.contentType = contentType;
  }

  /** The refusal behind `error`, also when routing wrapped it (as the `cause` of its own error). */
  static find(error: unknown): UpstreamRefusal | undefined {
    for (let current = error, depth = 0; current instanceof Error && depth < 4; depth += 1) {
      if (current instanceof UpstreamRefusal) return current;
      current = current.cause;
    }
    return undefined;
  }
}

/** An upstream's non-2xx answer as the error Ensemble answers with (5xx → 502, 504 → 504, 429 keeps Retry-After). */
export function upstreamStatusError(target: string, status: number, headers: Headers, body: Buffer): EnsembleError {
  const contentType = firstHeader(headers['content-type']) ?? 'application/json';
  if (status >= 400 && status < 500 && ![401, 403, 408, 429].includes(status)) {
    return new UpstreamRefusal(target, status, body, contentType);
  }
  const code: ErrorCode =
    status === 429
      ? 'rate_limited'
      : status === 401 || status === 403
        ? 'upstream_auth_failed'
        : status === 408 || status === 504
          ? 'timeout'
          : 'upstream_error';
  const retryAfterSeconds = status === 429 || status === 503 ? retryAfter(headers) : undefined;
  return new EnsembleError(code, `${target} answered ${status}: ${upstreamMessage(body)}`, {
    details: { upstreamStatus: status, target },
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
  });
}

/** A transport failure (refused connection, reset socket, no headers or no chunk in time). */
export function upstreamTransportError(target: string, error: unknown, timeoutMs: number): EnsembleError {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new EnsembleError('timeout', `${target} did not answer within ${timeoutMs} ms`, {
      cause: error,
      details: { target },
    });
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new EnsembleError('upstream_error', `${target} could not be reached: ${reason}`, {
    cause: error,
    details: { target },
  });
}

/** The upstream's own `error.message` (OpenAI's shape), else the start of its body. */
function upstreamMessage(body: Buffer): string {
  const text = body.toString('utf8', 0, Math.min(body.length, 2_000));
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    const message = typeof parsed.error === 'string' ? parsed.error : (parsed.error?.message ?? parsed.message);
    if (typeof message === 'string' && message !== '') return message.slice(0, 500);
  } catch {
    // not JSON: the text itself
  }
  return text.slice(0, 200) || '(no body)';
}

function retryAfter(headers: Headers): number | undefined {
  const milliseconds = Number(firstHeader(headers['retry-after-ms']));
  if (firstHeader(headers['retry-after-ms']) !== undefined && Number.isFinite(milliseconds) && milliseconds >= 0) {
    return milliseconds / 1000;
  }
  const value = firstHeader(headers['retry-after']);
  if (value === undefined) return undefined;
  if (/^\s*\d+(?:\.\d+)?\s*$/.test(value)) return Number(value);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - Date.now()) / 1000);
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
