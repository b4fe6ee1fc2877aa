import type { ChatMessageChunk } from '../model-runtime/chat-call.ts';
import { finishReasonOf } from '../model-runtime/chat-call.ts';

export type OpenAiFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

/** Providers' own words (Anthropic, Gemini, Bedrock, local) in OpenAI's. */
const byProviderReason: Readonly<Record<string, OpenAiFinishReason>> = {
  stop: 'stop',
  end_turn: 'stop',
  stop_sequence: 'stop',
  length: 'length',
  max_tokens: 'length',
  maxtokens: 'length',
  tool_calls: 'tool_calls',
  tool_use: 'tool_calls',
  function_call: 'tool_calls',
  content_filter: 'content_filter',
  safety: 'content_filter',
};

/** The OpenAI finish reason of a whole answer; a tool call without a stated reason is `tool_calls`. */
export function openAiFinishReason(answer: ChatMessageChunk | undefined): OpenAiFinishReason {
  const reported = finishReasonOf(answer)?.toLowerCase();
  const mapped = reported === undefined ? undefined : byProviderReason[reported];
  if (mapped !== undefined) return mapped;
  return (answer?.tool_calls?.length ?? 0) > 0 ? 'tool_calls' : 'stop';
}
