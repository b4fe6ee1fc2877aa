import type { FastifyReply, FastifyRequest } from 'fastify';
import { requestIdHeader } from '../request-id.ts';
import type { ErrorFormatterRegistry } from './error-formatter-registry.ts';
import type { ErrorProblem } from './error-problem.ts';
import { formatOpenAiError } from './openai-error-body.ts';
import { toErrorProblem } from './to-error-problem.ts';

export type ErrorResponder = (error: unknown, request: FastifyRequest, reply: FastifyReply) => FastifyReply;

export interface ErrorResponderOptions {
  formatters: ErrorFormatterRegistry;
  bodyLimitBytes: number;
}

/**
 * The one path every failure takes to the client: map it onto the catalogue, log it (the real error
 * and its stack only here), and send the body of the API family that owns the URL.
 */
export function createErrorResponder(options: ErrorResponderOptions): ErrorResponder {
  return (error, request, reply) => {
    const contentType = request.headers['content-type'];
    const { problem, internal } = toErrorProblem(error, {
      requestId: request.id,
      bodyLimitBytes: options.bodyLimitBytes,
      contentType,
    });
    logProblem(request, problem, internal, error);

    reply.code(problem.httpStatus);
    reply.header(requestIdHeader, request.id);
    if (problem.retryAfterSeconds !== undefined) {
      reply.header('retry-after', String(Math.max(0, Math.ceil(problem.retryAfterSeconds))));
    }
    return reply.type('application/json; charset=utf-8').send(formatBody(options.formatters, problem, request));
  };
}

function formatBody(formatters: ErrorFormatterRegistry, problem: ErrorProblem, request: FastifyRequest): unknown {
  try {
    return formatters.resolve(request.url)(problem, request);
  } catch (formatterError) {
    // A broken formatter must not turn an error response into a hang or a crash.
    request.log.error({ err: formatterError }, 'error formatter failed; answering in the default shape');
    return formatOpenAiError(problem, request);
  }
}

function logProblem(request: FastifyRequest, problem: ErrorProblem, internal: boolean, error: unknown): void {
  const fields = { code: problem.code, status: problem.httpStatus, param: problem.param ?? undefined };
  if (internal) request.log.error({ ...fields, err: error }, 'request failed');
  else if (problem.httpStatus >= 500) request.log.warn(fields, problem.message);
  else request.log.info(fields, problem.message);
}
