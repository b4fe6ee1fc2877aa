import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { EnsembleError } from '@ensemble/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toErrorProblem } from '../../errors/to-error-problem.ts';
import { formatGatewayError } from './gateway-error-body.ts';
import type { OpenAiStreamScanner } from './openai-stream-scanner.ts';
import type { UsageMeter } from './usage-meter.ts';

export interface WriteChatStreamOptions {
  /** The stream after its first chunk was read (`first`): routing can no longer fall back from here. */
  first: IteratorResult<Buffer | string>;
  iterator: AsyncIterator<Buffer | string>;
  scanner: OpenAiStreamScanner;
  meter: UsageMeter;
  /** The target that answers, for messages. */
  target: string;
  clientGone(): boolean;
}

export const sseHeaders = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  // Proxies such as nginx buffer responses unless told not to.
  'x-accel-buffering': 'no',
};

/** Writes to the client, waiting for `drain` when it reads slowly; nothing once it is gone. */
export async function write(response: ServerResponse, bytes: Buffer | string): Promise<void> {
  if (response.destroyed || response.writableEnded) return;
  if (!response.write(bytes)) await Promise.race([once(response, 'drain'), once(response, 'close')]);
}

/**
 * Sends an OpenAI chunk stream to the client as the upstream produces it (bytes as they come,
 * waiting for `drain` when the client reads slowly). It never lies: it ends with `[DONE]` only if
 * the upstream did; an upstream that fails or just stops early gets an OpenAI error chunk and the
 * stream ends without `[DONE]`, so SDKs raise instead of returning a short answer. A client that
 * leaves stops the upstream (the call's signal aborts it).
 */
export async function writeChatStream(
  request: FastifyRequest,
  reply: FastifyReply,
  options: WriteChatStreamOptions,
): Promise<void> {
  const { iterator, scanner, meter } = options;
  const response = reply.raw;
  reply.hijack();
  response.writeHead(200, { ...(reply.getHeaders() as Record<string, string>), ...sseHeaders });
  try {
    for (let next = options.first; !next.done; next = await iterator.next()) {
      const bytes = scanner.push(next.value);
      if (bytes.length > 0) {
        await write(response, bytes);
        meter.firstChunk();
      }
    }
    const rest = scanner.end();
    if (rest.length > 0) await write(response, rest);
    if (scanner.done && !scanner.upstreamError) {
      meter.succeed(scanner.usage ?? { inputTokens: 0, outputTokens: 0 });
      return;
    }
    // The upstream's own error event went through already; a stream that just stopped gets ours.
    if (!scanner.upstreamError) {
      await fail(request, response, new EnsembleError('upstream_error', `${options.target} ended the stream early`));
    }
    meter.fail(200, 'mid_stream_error', scanner.usage);
  } catch (error) {
    await Promise.resolve(iterator.return?.()).catch(() => undefined);
    if (options.clientGone()) {
      request.log.info({ target: options.target }, 'client disconnected; upstream call stopped');
      meter.clientClosed(scanner.usage);
      return;
    }
    await fail(request, response, error);
    meter.fail(200, 'mid_stream_error', scanner.usage);
  } finally {
    if (!response.writableEnded) response.end();
  }
}

/** One OpenAI error chunk, and the stream ends (no `[DONE]`). */
async function fail(request: FastifyRequest, response: ServerResponse, error: unknown): Promise<void> {
  const problem = loggedStreamProblem(request, error);
  await write(response, `data: ${JSON.stringify(formatGatewayError(problem, request))}\n\n`);
}

/** A stream's failure as the error catalogue's problem, logged (with the error itself when internal). */
export function loggedStreamProblem(request: FastifyRequest, error: unknown) {
  const { problem, internal } = toErrorProblem(error, {
    requestId: request.id,
    bodyLimitBytes: 0,
    contentType: undefined,
  });
  request.log[internal ? 'error' : 'warn'](
    { code: problem.code, ...(internal ? { err: error } : {}) },
    `stream failed: ${problem.message}`,
  );
  return problem;
}
