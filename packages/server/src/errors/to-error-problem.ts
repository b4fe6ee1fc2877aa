import { EnsembleError, type ErrorCode, errorCatalogue } from '@ensemble/core';
import type { FastifySchemaValidationError } from 'fastify';
import type { ErrorProblem } from './error-problem.ts';
import { validationIssues } from './validation-issues.ts';

/** What the mapping needs to know about the request, to write messages that help. */
export interface ProblemContext {
  requestId: string;
  bodyLimitBytes: number;
  contentType: string | undefined;
}

/** The result: what the client sees, and whether the failure is ours (logged with its stack). */
export interface MappedProblem {
  problem: ErrorProblem;
  internal: boolean;
}

interface FastifyMapping {
  code: ErrorCode;
  param?: string;
  message: (context: ProblemContext) => string;
}

/** Fastify's own error codes with a meaning in the catalogue; anything else from Fastify maps by status. */
const fastifyCodes: Readonly<Record<string, FastifyMapping>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: {
    code: 'malformed_body',
    param: 'body',
    message: () => 'The request body is not valid JSON',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    code: 'malformed_body',
    param: 'body',
    message: () => 'The request body is empty but content-type is application/json',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    code: 'malformed_body',
    param: 'body',
    message: () => 'The request body size does not match its Content-Length header',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: {
    code: 'payload_too_large',
    param: 'body',
    message: (context) => `The request body exceeds the limit of ${context.bodyLimitBytes} bytes`,
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'unsupported_media_type',
    param: 'headers.content-type',
    message: (context) =>
      `Content-Type '${describeContentType(context.contentType)}' is not supported; send application/json`,
  },
  FST_ERR_NOT_FOUND: { code: 'route_not_found', message: () => 'No such route' },
  FST_ERR_BAD_URL: { code: 'validation_failed', param: 'url', message: () => 'The request URL is malformed' },
  FST_ERR_INVALID_URL: { code: 'validation_failed', param: 'url', message: () => 'The request URL is malformed' },
  FST_ERR_HANDLER_TIMEOUT: { code: 'timeout', message: () => 'The request did not complete in time' },
  // Found by schemathesis: a path segment over the router's limit was a 500.
  FST_ERR_MAX_PARAM_LENGTH: {
    code: 'validation_failed',
    param: 'url',
    message: () => 'A path segment of the request URL is too long',
  },
};

/** For Fastify (or plugin) errors without an entry above: the code of their 4xx status. */
const codeByStatus: Readonly<Record<number, ErrorCode>> = {
  400: 'validation_failed',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

/** Codes whose message may reveal internals: the client gets a generic sentence instead. */
const opaqueCodes: ReadonlySet<ErrorCode> = new Set(['internal_error', 'config_invalid']);

interface FastifyLikeError {
  code: string;
  statusCode?: number;
  message: string;
  validation?: FastifySchemaValidationError[];
  validationContext?: string;
}

/** Maps anything a handler, hook or Fastify itself threw onto the catalogue. */
export function toErrorProblem(error: unknown, context: ProblemContext): MappedProblem {
  if (EnsembleError.isInstance(error)) return fromEnsembleError(error, context);
  // busboy's refusal of a multipart body without a boundary (found by schemathesis: was a 500).
  if (error instanceof Error && /^Multipart: Boundary not found$/.test(error.message)) {
    return {
      problem: make('validation_failed', 'The multipart Content-Type has no boundary', context, {
        param: 'headers.content-type',
      }),
      internal: false,
    };
  }
  if (!isFastifyLikeError(error)) return internal(context);
  // PostgreSQL's data exceptions (class 22: a number out of range, text it cannot store) come from a
  // value the client sent that the schema let through (found by schemathesis: were 500s).
  if (/^22[0-9A-Z]{3}$/.test(error.code) && 'severity' in (error as object)) {
    return {
      problem: make('validation_failed', 'A value in the request is out of range or cannot be stored', context, {
        details: { sqlstate: error.code },
      }),
      internal: false,
    };
  }

  if (Array.isArray(error.validation) && error.validation.length > 0) {
    const issues = validationIssues(error.validationContext, error.validation);
    const first = issues[0];
    const param = first?.param ?? error.validationContext ?? null;
    const message = first === undefined ? 'The request is invalid' : `${first.param}: ${first.message}`;
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more issue${issues.length > 2 ? 's' : ''})` : '';
    return {
      problem: make('validation_failed', `${message}${more}`, context, { param, details: { issues } }),
      internal: false,
    };
  }

  const mapping = fastifyCodes[error.code];
  if (mapping !== undefined) {
    const param = mapping.param === undefined ? {} : { param: mapping.param };
    return { problem: make(mapping.code, mapping.message(context), context, param), internal: false };
  }

  // Other Fastify and Fastify-plugin errors carry a deliberate status and a message written for clients.
  const status = error.statusCode;
  const byStatus = status === undefined ? undefined : codeByStatus[status];
  if (error.code.startsWith('FST_') && byStatus !== undefined) {
    return { problem: make(byStatus, error.message, context), internal: false };
  }
  return internal(context);
}

function fromEnsembleError(error: EnsembleError, context: ProblemContext): MappedProblem {
  const opaque = opaqueCodes.has(error.code);
  const problem: ErrorProblem = {
    code: error.code,
    httpStatus: error.httpStatus,
    type: errorCatalogue[error.code].type,
    message: opaque ? genericMessage : error.message,
    param: error.field ?? null,
    details: opaque ? undefined : error.details,
    retryable: error.retryable,
    retryAfterSeconds: error.retryAfterSeconds,
    requestId: context.requestId,
  };
  return { problem, internal: error.httpStatus >= 500 && error.code !== 'shutting_down' };
}

const genericMessage = 'The server failed to handle the request; the request id identifies it in the logs';

function internal(context: ProblemContext): MappedProblem {
  return { problem: make('internal_error', genericMessage, context), internal: true };
}

function describeContentType(value: string | undefined): string {
  if (value === undefined || value === '') return '(none)';
  // Echo only a short, printable form: the header is attacker-controlled.
  return value.replace(/[^\x20-\x7e]/g, '?').slice(0, 100);
}

function make(
  code: ErrorCode,
  message: string,
  context: ProblemContext,
  extra: { param?: string | null; details?: Record<string, unknown> } = {},
): ErrorProblem {
  const spec = errorCatalogue[code];
  return {
    code,
    httpStatus: spec.httpStatus,
    type: spec.type,
    message,
    param: extra.param ?? null,
    details: extra.details,
    retryable: spec.retryable,
    retryAfterSeconds: undefined,
    requestId: context.requestId,
  };
}

function isFastifyLikeError(value: unknown): value is FastifyLikeError {
  return (
    value instanceof Error &&
    typeof (value as { code?: unknown }).code === 'string' &&
    typeof value.message === 'string'
  );
}
