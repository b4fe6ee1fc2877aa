import { type ErrorCode, errorCatalogue } from './error-catalogue.ts';

export interface EnsembleErrorOptions {
  /** The request field or setting at fault, e.g. `body.name` or `PORT`. */
  field?: string;
  /** Safe, client-visible details (never secrets or stack traces). */
  details?: Record<string, unknown>;
  cause?: unknown;
  /** Overrides the catalogue's retryable flag when the call site knows better. */
  retryable?: boolean;
  /** Seconds after which a retry may succeed (sent as `Retry-After`). */
  retryAfterSeconds?: number;
}

/** The base of every error Ensemble raises on purpose; anything else is an internal error. */
export class EnsembleError extends Error {
  override readonly name = 'EnsembleError';
  readonly code: ErrorCode;
  readonly httpStatus: number;
  readonly retryable: boolean;
  readonly field: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options: EnsembleErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const spec = errorCatalogue[code];
    this.code = code;
    this.httpStatus = spec.httpStatus;
    this.retryable = options.retryable ?? spec.retryable;
    this.field = options.field;
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  static isInstance(value: unknown): value is EnsembleError {
    return value instanceof EnsembleError;
  }
}

export function validationError(field: string, message: string, details?: Record<string, unknown>) {
  return new EnsembleError('validation_failed', `${field}: ${message}`, {
    field,
    ...(details === undefined ? {} : { details }),
  });
}

export function notFound(what: string, id: string) {
  return new EnsembleError('not_found', `${what} '${id}' does not exist`, { details: { [what]: id } });
}

export function conflict(what: string, id: string) {
  return new EnsembleError('conflict', `${what} '${id}' already exists`, { details: { [what]: id } });
}
