import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ResponsesStreamTranslator } from './responses-stream-translator.ts';
import type { UsageMeter } from './usage-meter.ts';
import { loggedStreamProblem, sseHeaders, write } from './write-chat-stream.ts';

export interface WriteResponsesStreamOptions {
  /** The chat stream after its first chunk was read (`first`): routing can no longer fall back from here. */
  first: IteratorResult<Buffer | string>;
  iterator: AsyncIterator<Buffer | string>;
  translator: ResponsesStreamTranslator;
  meter: UsageMeter;
  /** The target that answers, for messages. */
  target: string;
  clientGone(): boolean;
}

/**
 * Sends a chat chunk stream to the client as the Responses API's events, translated as the chunks
 * come. Like the chat writer it never lies: `response.completed` only when the upstream finished
 * (`[DONE]`); a failure or an early end is `response.failed` then `error`, so SDKs raise. A client
 * that leaves stops the upstream (the call's signal aborts it).
 */
export async function writeResponsesStream(
  request: FastifyRequest,
  reply: FastifyReply,
  options: WriteResponsesStreamOptions,
): Promise<void> {
  const { iterator, translator, meter } = options;
  const response = reply.raw;
  reply.hijack();
  response.writeHead(200, { ...(reply.getHeaders() as Record<string, string>), ...sseHeaders });
  try {
    await write(response, translator.start());
    for (let next = options.first; !next.done; next = await iterator.next()) {
      const events = translator.push(next.value);
      if (events !== '') {
        meter.firstChunk();
        await write(response, events);
      }
    }
    const rest = translator.end();
    if (rest !== '') await write(response, rest);
    if (translator.done && translator.upstreamError === undefined) {
      await write(response, translator.finish());
      meter.succeed(translator.tokens ?? { inputTokens: 0, outputTokens: 0 });
      return;
    }
    const failure = translator.upstreamError ?? {
      code: 'upstream_error',
      message: `${options.target} ended the stream early`,
    };
    request.log.warn({ code: failure.code, target: options.target }, `stream failed: ${failure.message}`);
    await write(response, translator.fail(failure));
    meter.fail(200, 'mid_stream_error', translator.tokens);
  } catch (error) {
    await Promise.resolve(iterator.return?.()).catch(() => undefined);
    if (options.clientGone()) {
      request.log.info({ target: options.target }, 'client disconnected; upstream call stopped');
      meter.clientClosed(translator.tokens);
      return;
    }
    const problem = loggedStreamProblem(request, error);
    await write(response, translator.fail({ code: problem.code, message: problem.message }));
    meter.fail(200, 'mid_stream_error', translator.tokens);
  } finally {
    if (!response.writableEnded) response.end();
  }
}
