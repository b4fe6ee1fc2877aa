import type { FastifyReply, FastifyRequest } from 'fastify';
import { formatOpenAiError } from '../../errors/openai-error-body.ts';
import { requestIdHeader } from '../../request-id.ts';
import { type ChatModel, chatCallOptions, chatInput, finishReasonOf, roundMs, usageOf } from './chat-call.ts';
import type { ChatParameters, InvokeBody } from './invoke-schemas.ts';
import { relayChatStream } from './relay-chat-stream.ts';
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
  await relayChatStream(request, reply, {
    model: options.model,
    maxDurationMs: options.maxDurationMs,
    start: (signal) => options.chat.stream(chatInput(options.messages), chatCallOptions(options.parameters, signal)),
    format: {
      open: () => {
        const sse = new SseWriter(reply.raw);
        sse.open({ [requestIdHeader]: request.id });
        return sse;
      },
      chunk: async (sse, chunk) => {
        if (chunk.text.length > 0) await sse.send('token', { delta: chunk.text });
      },
      finish: (sse, answer) =>
        sse.send('done', {
          usage: usageOf(answer),
          finishReason: finishReasonOf(answer),
          model: options.model,
          version: options.version,
          latencyMs: roundMs(performance.now() - started),
        }),
      fail: (sse, problem) => sse.send('error', formatOpenAiError(problem, request)),
    },
  });
}
