import { randomBytes } from 'node:crypto';
import type { ChatMessageChunk } from '../model-runtime/chat-call.ts';
import { openAiFinishReason } from './finish-reason.ts';

export interface OpenAiUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface OpenAiToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** `chatcmpl-…`, as OpenAI's ids look. */
export function completionId(): string {
  return `chatcmpl-${randomBytes(15).toString('base64url')}`;
}

export function unixSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Usage in OpenAI's words; zeros when the provider reported none (OpenAI clients expect the object). */
export function openAiUsage(answer: ChatMessageChunk | undefined): OpenAiUsage {
  const usage = answer?.usage_metadata;
  return {
    prompt_tokens: usage?.input_tokens ?? 0,
    completion_tokens: usage?.output_tokens ?? 0,
    total_tokens: usage?.total_tokens ?? 0,
  };
}

export function openAiToolCalls(answer: ChatMessageChunk): OpenAiToolCall[] {
  return (answer.tool_calls ?? []).map((call, index) => ({
    id: call.id ?? `call_${index}`,
    type: 'function',
    function: { name: call.name, arguments: JSON.stringify(call.args) },
  }));
}

/** A whole answer as OpenAI's `chat.completion` object. */
export function chatCompletionJson(answer: ChatMessageChunk, model: string) {
  const toolCalls = openAiToolCalls(answer);
  return {
    id: completionId(),
    object: 'chat.completion' as const,
    created: unixSeconds(),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant' as const,
          // OpenAI sends null content beside tool calls.
          content: toolCalls.length > 0 && answer.text === '' ? null : answer.text,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
          refusal: null,
        },
        logprobs: null,
        finish_reason: openAiFinishReason(answer),
      },
    ],
    usage: openAiUsage(answer),
  };
}
