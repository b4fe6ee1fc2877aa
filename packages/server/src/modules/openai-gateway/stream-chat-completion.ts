import { EnsembleError } from '@ensemble/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toErrorProblem } from '../../errors/to-error-problem.ts';
import { requestIdHeader } from '../../request-id.ts';
import type { ChatMessageChunk } from '../model-runtime/chat-call.ts';
import { completionId, openAiUsage, unixSeconds } from './chat-completion-json.ts';
import type { ChatRequestOptions, ChatRunnable } from './chat-runnable.ts';
import { openAiFinishReason } from './finish-reason.ts';
import { formatGatewayError } from './gateway-error-body.ts';
import { OpenAiSse } from './openai-sse.ts';
import type { ChatInput } from './to-chat-input.ts';

export interface StreamChatCompletionOptions {
  runnable: ChatRunnable;
  input: ChatInput;
  options: ChatRequestOptions;
  model: string;
  includeUsage: boolean;
  /** The longest a stream may run. */
  maxDurationMs: number;
}

type ToolCallDelta = {
  index: number;
  id?: string;
  type?: 'function';
  function: { name?: string; arguments: string };
};

function toolCallDeltas(chunk: ChatMessageChunk): ToolCallDelta[] {
  return (chunk.tool_call_chunks ?? []).map((part, position) => ({
    index: part.index ?? position,
    ...(part.id === undefined ? {} : { id: part.id, type: 'function' as const }),
    function: { ...(part.name === undefined ? {} : { name: part.name }), arguments: part.args ?? '' },
  }));
}

/**
 * Streams `chat.completion.chunk`s as OpenAI does: a role chunk, content and tool-call deltas, a
 * chunk with `finish_reason`, the usage chunk when asked for, then `data: [DONE]`. The first model
 * chunk is awaited before anything is sent, so an early failure is an ordinary error response; a
 * later one is sent as an OpenAI error chunk and the stream ends without `[DONE]`, so clients see
 * an error rather than a short answer. A client that disconnects aborts the model call.
 */
export async function streamChatCompletion(
  request: FastifyRequest,
  reply: FastifyReply,
  settings: StreamChatCompletionOptions,
): Promise<void> {
  const abort = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableFinished) abort.abort(new Error('the client disconnected'));
  };
  reply.raw.on('close', onClose);
  const timeout = new EnsembleError('timeout', `the stream took longer than ${settings.maxDurationMs} ms`);
  const timer = setTimeout(() => abort.abort(timeout), settings.maxDurationMs);
  const clientGone = () => abort.signal.aborted && abort.signal.reason !== timeout;

  let iterator: AsyncIterator<ChatMessageChunk>;
  let first: IteratorResult<ChatMessageChunk>;
  try {
    const stream = await settings.runnable.stream(settings.input, { ...settings.options, signal: abort.signal });
    iterator = stream[Symbol.asyncIterator]();
    first = await iterator.next();
  } catch (error) {
    clearTimeout(timer);
    reply.raw.off('close', onClose);
    throw abort.signal.reason === timeout ? timeout : error;
  }

  reply.hijack();
  const sse = new OpenAiSse(reply.raw);
  sse.open({ [requestIdHeader]: request.id });
  const base = { id: completionId(), object: 'chat.completion.chunk', created: unixSeconds(), model: settings.model };
  // With include_usage every chunk carries `usage: null` and a last chunk carries the totals.
  const usageField = settings.includeUsage ? { usage: null } : {};
  const chunkOf = (delta: Record<string, unknown>, finishReason: string | null = null) => ({
    ...base,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...usageField,
  });
  let answer: ChatMessageChunk | undefined;
  try {
    await sse.data(chunkOf({ role: 'assistant', content: '', refusal: null }));
    for (let next = first; !next.done; next = await iterator.next()) {
      const chunk = next.value;
      answer = answer === undefined ? chunk : answer.concat(chunk);
      const toolCalls = toolCallDeltas(chunk);
      if (chunk.text.length > 0 || toolCalls.length > 0) {
        await sse.data(
          chunkOf({
            ...(chunk.text.length > 0 ? { content: chunk.text } : {}),
            ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
          }),
        );
      }
      if (abort.signal.aborted) throw abort.signal.reason;
    }
    await sse.data(chunkOf({}, openAiFinishReason(answer)));
    if (settings.includeUsage) await sse.data({ ...base, choices: [], usage: openAiUsage(answer) });
    await sse.done();
  } catch (caught) {
    if (clientGone()) {
      request.log.info({ model: settings.model }, 'client disconnected; generation stopped');
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
      { code: problem.code, model: settings.model, ...(internal ? { err: error } : {}) },
      `stream failed: ${problem.message}`,
    );
    await sse.data(formatGatewayError(problem, request));
  } finally {
    clearTimeout(timer);
    reply.raw.off('close', onClose);
    sse.end();
  }
}
