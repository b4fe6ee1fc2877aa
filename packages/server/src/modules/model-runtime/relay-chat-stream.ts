import { EnsembleError } from '@ensemble/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorProblem } from '../../errors/error-problem.ts';
import { toErrorProblem } from '../../errors/to-error-problem.ts';
import type { ChatMessageChunk } from './chat-call.ts';

/** What differs between the stream formats (Ensemble's `token` events, OpenAI's chunks). */
export interface ChatStreamFormat<Writer extends { end(): void }> {
  /** Takes over the raw response once the first chunk is in hand (headers, no body yet). */
  open(): Writer;
  /** Sent before the first chunk, e.g. OpenAI's role chunk. */
  begin?(writer: Writer): Promise<void>;
  chunk(writer: Writer, chunk: ChatMessageChunk): Promise<void>;
  /** The clean end, with the whole answer for usage and finish reason. */
  finish(writer: Writer, answer: ChatMessageChunk | undefined): Promise<void>;
  /** A failure after the stream opened: an error frame, and then the stream just ends. */
  fail(writer: Writer, problem: ErrorProblem): Promise<void>;
}

export interface RelayChatStreamOptions<Writer extends { end(): void }> {
  /** Starts the model's stream; the signal aborts on client disconnect or timeout. */
  start(signal: AbortSignal): Promise<AsyncIterable<ChatMessageChunk>>;
  format: ChatStreamFormat<Writer>;
  model: string;
  /** The longest a stream may run. */
  maxDurationMs: number;
}

/**
 * The life of a streamed chat answer, whatever its wire format. The first chunk is awaited before
 * anything is sent, so a model that fails at once gets an ordinary error response with its status.
 * Later failures send the format's error frame and end — never a clean end after a truncated answer.
 * A client that disconnects aborts the generation; the stream is cut after `maxDurationMs`.
 */
export async function relayChatStream<Writer extends { end(): void }>(
  request: FastifyRequest,
  reply: FastifyReply,
  { start, format, model, maxDurationMs }: RelayChatStreamOptions<Writer>,
): Promise<void> {
  const abort = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableFinished) abort.abort(new Error('the client disconnected'));
  };
  reply.raw.on('close', onClose);
  const timeout = new EnsembleError('timeout', `the stream took longer than ${maxDurationMs} ms`);
  const timer = setTimeout(() => abort.abort(timeout), maxDurationMs);
  const clientGone = () => abort.signal.aborted && abort.signal.reason !== timeout;

  let iterator: AsyncIterator<ChatMessageChunk>;
  let first: IteratorResult<ChatMessageChunk>;
  try {
    iterator = (await start(abort.signal))[Symbol.asyncIterator]();
    first = await iterator.next();
  } catch (error) {
    clearTimeout(timer);
    reply.raw.off('close', onClose);
    throw abort.signal.reason === timeout ? timeout : error;
  }

  reply.hijack();
  const writer = format.open();
  let answer: ChatMessageChunk | undefined;
  try {
    await format.begin?.(writer);
    for (let next = first; !next.done; next = await iterator.next()) {
      answer = answer === undefined ? next.value : answer.concat(next.value);
      await format.chunk(writer, next.value);
      if (abort.signal.aborted) throw abort.signal.reason;
    }
    await format.finish(writer, answer);
  } catch (caught) {
    if (clientGone()) {
      request.log.info({ model }, 'client disconnected; generation stopped');
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
      { code: problem.code, model, ...(internal ? { err: error } : {}) },
      `stream failed: ${problem.message}`,
    );
    await format.fail(writer, problem);
  } finally {
    clearTimeout(timer);
    reply.raw.off('close', onClose);
    writer.end();
  }
}
