import { EnsembleError, type LoadedModel } from '@ensemble/core';
import type { ChatMessageChunk } from '../model-runtime/chat-call.ts';
import { chatCompletionJson, completionId, openAiUsage, unixSeconds } from './chat-completion-json.ts';
import { chatCompletionRequestSchema } from './chat-completion-request.ts';
import { prepareChatCall } from './chat-runnable.ts';
import { openAiFinishReason } from './finish-reason.ts';
import { parseRequestBody } from './parse-request-body.ts';
import type { WireAnswer } from './pass-through.ts';
import { toChatInput } from './to-chat-input.ts';

/**
 * Chat through a LangChain runtime (providers whose wire format is not OpenAI's, local models):
 * the request checked in full, translated, and the answer written in OpenAI's format — the same
 * bytes a pass-through would return, so the rest of the gateway treats both alike.
 */
function prepare(loaded: LoadedModel, request: unknown) {
  const { descriptor, runtime } = loaded;
  const chat = runtime.chat;
  if (chat === undefined) {
    throw new EnsembleError('internal_error', `the runtime of model '${descriptor.name}' lacks a chat model`);
  }
  const body = parseRequestBody(chatCompletionRequestSchema, request);
  const { runnable, options } = prepareChatCall(chat, descriptor, body);
  return { runnable, options, input: toChatInput(body.messages) };
}

export async function langChainChatJson(
  loaded: LoadedModel,
  request: unknown,
  signal: AbortSignal,
): Promise<WireAnswer> {
  const { runnable, options, input } = prepare(loaded, request);
  const answer = await runnable.invoke(input, { ...options, signal });
  const completion = chatCompletionJson(answer, loaded.descriptor.name);
  return {
    body: Buffer.from(JSON.stringify(completion)),
    contentType: 'application/json; charset=utf-8',
    usage: { inputTokens: completion.usage.prompt_tokens, outputTokens: completion.usage.completion_tokens },
  };
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
 * The answer as OpenAI's chunk stream, `include_usage` style (every chunk with `usage: null`, a
 * usage chunk last, then `[DONE]`); the stream writer takes the usage back out when the client did
 * not ask for it. Nothing is yielded until the model's first chunk has arrived.
 */
export async function langChainChatStream(
  loaded: LoadedModel,
  request: unknown,
  signal: AbortSignal,
): Promise<AsyncIterable<string>> {
  const { runnable, options, input } = prepare(loaded, request);
  const stream = await runnable.stream(input, { ...options, signal });
  const model = loaded.descriptor.name;
  return (async function* chunks(): AsyncGenerator<string> {
    const base = { id: completionId(), object: 'chat.completion.chunk', created: unixSeconds(), model };
    const event = (delta: Record<string, unknown>, finishReason: string | null = null) =>
      `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }], usage: null })}\n\n`;
    let answer: ChatMessageChunk | undefined;
    let started = false;
    for await (const chunk of stream) {
      if (!started) {
        started = true;
        yield event({ role: 'assistant', content: '', refusal: null });
      }
      answer = answer === undefined ? chunk : answer.concat(chunk);
      const toolCalls = toolCallDeltas(chunk);
      if (chunk.text.length > 0 || toolCalls.length > 0) {
        yield event({
          ...(chunk.text.length > 0 ? { content: chunk.text } : {}),
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        });
      }
    }
    if (!started) yield event({ role: 'assistant', content: '', refusal: null });
    yield event({}, openAiFinishReason(answer));
    yield `data: ${JSON.stringify({ ...base, choices: [], usage: openAiUsage(answer) })}\n\ndata: [DONE]\n\n`;
  })();
}
