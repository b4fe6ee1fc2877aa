import { EnsembleError } from '@ensemble/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { formatOpenAiError } from '../../errors/openai-error-body.ts';
import { toErrorProblem } from '../../errors/to-error-problem.ts';
import { requestIdHeader } from '../../request-id.ts';
import {
  type ChatMessageChunk,
  type ChatModel,
  chatCallOptions,
  chatInput,
  finishReasonOf,
  roundMs,
  usageOf,
} from './chat-call.ts';
import type { ChatParameters, InvokeBody } from './invoke-schemas.ts';
import { SseWriter } from './sse-writer.ts';

export interface StreamChatOptions {
  chat: ChatModel;
  messages: NonNullable<InvokeBody['messages']>;
  parameters: ChatParameters | undefined;
  model: string;
  version: number;
  /** The longest a stream may run. */
  maxDurationMs: number;
}

/**
 * Streams a chat answer as server-sent events: `token` events (`{delta}`), then `done` with usage.
 * The first chunk is awaited before anything is sent, so a model that fails at once gets an ordinary
 * error response with its status. Later failures send `event: error` (OpenAI's error body) and end:
 * never a `done` after a truncated answer. A client that disconnects aborts the generation.
 */
export async function streamChat(request: FastifyRequest, reply: FastifyReply, options: StreamChatOptions) {
  const started = performance.now();
  const abort = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableFinished) abort.abort(new Error('the client disconnected'));
  };
  reply.raw.on('close', onClose);
  const timeout = new EnsembleError('timeout', `the stream took longer than ${options.maxDurationMs} ms`);
  const timer = setTimeout(() => abort.abort(timeout), options.maxDurationMs);
  const clientGone = () => abort.signal.aborted && abort.signal.reason !== timeout;

  let iterator: AsyncIterator<ChatMessageChunk>;
  let first: IteratorResult<ChatMessageChunk>;
  try {
    const stream = await options.chat.stream(
      chatInput(options.messages),
      chatCallOptions(options.parameters, abort.signal),
    );
    iterator = stream[Symbol.asyncIterator]();
    first = await iterator.next();
  } catch (error) {
    clearTimeout(timer);
    reply.raw.off('close', onClose);
    throw abort.signal.reason === timeout ? timeout : error;
  }

  reply.hijack();
  const sse = new SseWriter(reply.raw);
  sse.open({ [requestIdHeader]: request.id });
  let answer: ChatMessageChunk | undefined;
  try {
    for (let next = first; !next.done; next = await iterator.next()) {
      const chunk = next.value;
      answer = answer === undefined ? chunk : answer.concat(chunk);
      if (chunk.text.length > 0) await sse.send('token', { delta: chunk.text });
      if (abort.signal.aborted) throw abort.signal.reason;
    }
    await sse.send('done', {
      usage: usageOf(answer),
      finishReason: finishReasonOf(answer),
      model: options.model,
      version: options.version,
      latencyMs: roundMs(performance.now() - started),
    });
  } catch (caught) {
    if (clientGone()) {
      request.log.info({ model: options.model }, 'client disconnected; generation stopped');
      await iterator.return?.().catch(() => undefined);
      return;
    }
    const error = abort.signal.reason === timeout ? timeout : caught;
    const { problem, internal } = toErrorProblem(error, {
      requestId: request.id,
      bodyLimitBytes: 0,
      contentType: undefined,
    });
    request.log[internal ? 'error' : 'warn'](
      { code: problem.code, model: options.model, ...(internal ? { err: error } : {}) },
      `stream failed: ${problem.message}`,
    );
    await sse.send('error', formatOpenAiError(problem, request));
  } finally {
    clearTimeout(timer);
    reply.raw.off('close', onClose);
    sse.end();
  }
}
