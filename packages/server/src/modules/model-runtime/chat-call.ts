import type { ModelRuntime } from '@ensemble/core';
import type { ChatParameters, InvokeBody, Usage } from './invoke-schemas.ts';

export type ChatModel = NonNullable<ModelRuntime['chat']>;
export type ChatMessageChunk = Awaited<ReturnType<ChatModel['invoke']>>;
type ChatInput = Parameters<ChatModel['invoke']>[0];

/** Call options for one chat call: the signal, plus the per-call parameters. */
export interface ChatCallOptions {
  signal: AbortSignal;
  stop?: string[];
  // Every provider honours these over the registry version's `parameters` (hosted ones through
  // honourCallSampling in packages/providers).
  maxTokens?: number;
  temperature?: number;
  topP?: number;
}

export function chatCallOptions(parameters: ChatParameters | undefined, signal: AbortSignal): ChatCallOptions {
  return {
    signal,
    ...(parameters?.stop === undefined ? {} : { stop: parameters.stop }),
    ...(parameters?.maxTokens === undefined ? {} : { maxTokens: parameters.maxTokens }),
    ...(parameters?.temperature === undefined ? {} : { temperature: parameters.temperature }),
    ...(parameters?.topP === undefined ? {} : { topP: parameters.topP }),
  };
}

/** LangChain takes `{role, content}` objects as messages as they are. */
export function chatInput(messages: NonNullable<InvokeBody['messages']>): ChatInput {
  return messages.map((message) => ({ role: message.role, content: message.content }));
}

export function usageOf(message: ChatMessageChunk | undefined): Usage {
  const usage = message?.usage_metadata;
  if (usage === undefined) return null;
  return { inputTokens: usage.input_tokens, outputTokens: usage.output_tokens, totalTokens: usage.total_tokens };
}

export function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}

export function finishReasonOf(message: ChatMessageChunk | undefined): string | null {
  const metadata = message?.response_metadata as Record<string, unknown> | undefined;
  const reason = metadata?.finish_reason ?? metadata?.stop_reason ?? metadata?.finishReason;
  return typeof reason === 'string' ? reason : null;
}
