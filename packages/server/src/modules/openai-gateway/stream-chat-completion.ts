import type { FastifyReply, FastifyRequest } from 'fastify';
import { requestIdHeader } from '../../request-id.ts';
import type { ChatMessageChunk } from '../model-runtime/chat-call.ts';
import { relayChatStream } from '../model-runtime/relay-chat-stream.ts';
import { completionId, openAiUsage, unixSeconds } from './chat-completion-json.ts';
import type { ChatRequestOptions, ChatRunnable } from './chat-runnable.ts';
import { openAiFinishReason } from './finish-reason.ts';
import { formatGatewayError } from './gateway-error-body.ts';
import { OpenAiSse } from './openai-sse.ts';
import type { ChatInput } from './to-chat-input.ts';
import type { UsageMeter } from './usage-meter.ts';

export interface StreamChatCompletionOptions {
  runnable: ChatRunnable;
  input: ChatInput;
  options: ChatRequestOptions;
  model: string;
  includeUsage: boolean;
  /** The longest a stream may run. */
  maxDurationMs: number;
  /** Told of the first chunk, the end and its usage, a mid-stream failure, a client that left. */
  meter: UsageMeter;
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
  const base = { id: completionId(), object: 'chat.completion.chunk', created: unixSeconds(), model: settings.model };
  // With include_usage every chunk carries `usage: null` and a last chunk carries the totals.
  const usageField = settings.includeUsage ? { usage: null } : {};
  const chunkOf = (delta: Record<string, unknown>, finishReason: string | null = null) => ({
    ...base,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...usageField,
  });
  await relayChatStream(request, reply, {
    model: settings.model,
    maxDurationMs: settings.maxDurationMs,
    start: (signal) => settings.runnable.stream(settings.input, { ...settings.options, signal }),
    format: {
      open: () => {
        const sse = new OpenAiSse(reply.raw);
        sse.open({ [requestIdHeader]: request.id });
        return sse;
      },
      begin: async (sse) => {
        await sse.data(chunkOf({ role: 'assistant', content: '', refusal: null }));
        settings.meter.firstChunk();
      },
      chunk: async (sse, chunk) => {
        const toolCalls = toolCallDeltas(chunk);
        if (chunk.text.length > 0 || toolCalls.length > 0) {
          await sse.data(
            chunkOf({
              ...(chunk.text.length > 0 ? { content: chunk.text } : {}),
              ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
            }),
          );
        }
      },
      finish: async (sse, answer) => {
        await sse.data(chunkOf({}, openAiFinishReason(answer)));
        const usage = openAiUsage(answer);
        if (settings.includeUsage) await sse.data({ ...base, choices: [], usage });
        await sse.done();
        settings.meter.succeed({ inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens });
      },
      fail: async (sse, problem) => {
        settings.meter.fail(200, 'mid_stream_error');
        await sse.data(formatGatewayError(problem, request));
      },
    },
  });
  // The relay returns without finishing or failing only when the client went away.
  settings.meter.clientClosed();
}
