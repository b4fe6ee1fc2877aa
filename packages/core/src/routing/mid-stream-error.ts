import { EnsembleError, type EnsembleErrorOptions } from '../errors/ensemble-error.ts';
import type { ErrorCode } from '../errors/error-catalogue.ts';

/**
 * A stream that broke after its first chunk reached the caller. It cannot be retried or
 * fallen back from (the caller already has part of an answer), so the server must end the
 * response with an error chunk — never a clean end after a truncated answer.
 */
export class MidStreamError extends EnsembleError {
  readonly midStream = true;
  /** Chunks the caller received before the failure. */
  readonly chunksDelivered: number;
  readonly target: string;

  constructor(
    code: ErrorCode,
    message: string,
    stream: { target: string; chunksDelivered: number },
    options: EnsembleErrorOptions = {},
  ) {
    super(code, message, options);
    this.target = stream.target;
    this.chunksDelivered = stream.chunksDelivered;
  }

  static isMidStream(value: unknown): value is MidStreamError {
    return value instanceof MidStreamError;
  }
}
