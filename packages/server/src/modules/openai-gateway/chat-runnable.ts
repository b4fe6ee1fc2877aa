import type { ModelDescriptor } from '@ensemble/core';
import { validationError } from '@ensemble/core';
import type { ChatModel } from '../model-runtime/chat-call.ts';
import type { ChatCompletionRequest } from './chat-completion-request.ts';

/** What a request is run on: the chat model itself, or the model with the request's tools bound. */
export type ChatRunnable = ReturnType<NonNullable<ChatModel['bindTools']>>;

/** Providers that speak OpenAI's wire format and so pass `response_format` through to the upstream. */
const jsonModeProviders: ReadonlySet<string> = new Set(['openai', 'openai-compatible', 'azure-openai']);

/** Per-call options (the caller adds the signal): sampling, and OpenAI fields LangChain's OpenAI models read per call. */
export interface ChatRequestOptions {
  stop?: string[];
  // Sampling per call: every provider honours these over the registry version's `parameters`
  // (hosted ones through honourCallSampling in packages/providers).
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  response_format?: { type: 'json_object' };
  parallel_tool_calls?: boolean;
}

/**
 * Checks what the request asks for against what the model can do, then returns what to call and
 * how. Anything that would otherwise be dropped silently (n > 1, tools on a model without tool
 * support, JSON mode on a model that cannot pass it through) is a 400 naming the field.
 */
export function prepareChatCall(
  chat: ChatModel,
  descriptor: ModelDescriptor,
  body: ChatCompletionRequest,
): { runnable: ChatRunnable; options: ChatRequestOptions } {
  if ((body.n ?? 1) > 1) {
    throw validationError('body.n', 'only n = 1 is supported for now; send n requests instead');
  }
  if (body.logprobs === true) throw validationError('body.logprobs', 'log probabilities are not supported yet');
  const format = body.response_format?.type ?? 'text';
  if (format === 'json_schema') {
    throw validationError('body.response_format', 'json_schema is not supported yet; use json_object');
  }
  const jsonMode = format === 'json_object';
  if (jsonMode && !(descriptor.capabilities.jsonMode ?? jsonModeProviders.has(descriptor.provider))) {
    throw validationError('body.response_format', `model '${descriptor.name}' does not support JSON mode`);
  }

  let runnable: ChatRunnable = chat;
  const tools = body.tools ?? [];
  if (tools.length > 0) {
    if (typeof chat.bindTools !== 'function' || descriptor.capabilities.tools === false) {
      throw validationError('body.tools', `model '${descriptor.name}' does not support tools`);
    }
    runnable = chat.bindTools(tools, body.tool_choice === undefined ? {} : { tool_choice: body.tool_choice });
  } else if (body.tool_choice !== undefined && body.tool_choice !== 'none') {
    throw validationError('body.tool_choice', 'needs tools');
  }

  const stop = body.stop === null || body.stop === undefined ? undefined : [body.stop].flat();
  const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? undefined;
  const options: ChatRequestOptions = {
    ...(stop === undefined ? {} : { stop }),
    ...(maxTokens === undefined ? {} : { maxTokens }),
    ...(body.temperature === null || body.temperature === undefined ? {} : { temperature: body.temperature }),
    ...(body.top_p === null || body.top_p === undefined ? {} : { topP: body.top_p }),
    ...(jsonMode ? { response_format: { type: 'json_object' as const } } : {}),
    ...(body.parallel_tool_calls === undefined ? {} : { parallel_tool_calls: body.parallel_tool_calls }),
  };
  return { runnable, options };
}
