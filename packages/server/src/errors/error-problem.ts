import type { ErrorCode } from '@ensemble/core';
import type { FastifyRequest } from 'fastify';

/**
 * A failure, normalised and safe to show a client: the error handler builds one from whatever was
 * thrown, and a per-prefix formatter turns it into the body of that API family.
 */
export interface ErrorProblem {
  readonly code: ErrorCode;
  readonly httpStatus: number;
  /** The catalogue's OpenAI-style `error.type`. */
  readonly type: string;
  readonly message: string;
  /** The request field at fault, e.g. `body.name`, or null when no single field is. */
  readonly param: string | null;
  /** Safe, client-visible details (validation issues, limits). */
  readonly details: Record<string, unknown> | undefined;
  readonly retryable: boolean;
  /** Sent as `Retry-After` when set. */
  readonly retryAfterSeconds: number | undefined;
  readonly requestId: string;
}

/** Turns a problem into the response body an API family's clients expect. */
export type ErrorFormatter = (problem: ErrorProblem, request: FastifyRequest) => unknown;
