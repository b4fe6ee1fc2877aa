import { validationError } from '@ensemble/core';
import type { ChatModel } from '../model-runtime/chat-call.ts';
import type { ChatCompletionMessage } from './chat-completion-request.ts';

export type ChatInput = Parameters<ChatModel['invoke']>[0];

function textOf(content: string | Array<{ text: string }> | null | undefined): string {
  if (content === null || content === undefined) return '';
  return typeof content === 'string' ? content : content.map((part) => part.text).join('');
}

function parseArguments(raw: string, field: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw validationError(field, 'must be a JSON object, as the model produced it');
}

/**
 * OpenAI messages as LangChain message-likes (`{role, content, …}`), which every chat model takes.
 * Tool calls become LangChain tool calls (arguments parsed here, so bad JSON is the caller's 400).
 */
export function toChatInput(messages: readonly ChatCompletionMessage[]): ChatInput {
  return messages.map((message, index) => {
    switch (message.role) {
      case 'assistant':
        return {
          role: 'assistant',
          content: textOf(message.content),
          ...(message.tool_calls === undefined
            ? {}
            : {
                tool_calls: message.tool_calls.map((call, callIndex) => ({
                  id: call.id,
                  name: call.function.name,
                  args: parseArguments(
                    call.function.arguments,
                    `body.messages[${index}].tool_calls[${callIndex}].function.arguments`,
                  ),
                  type: 'tool_call' as const,
                })),
              }),
        };
      case 'tool':
        return { role: 'tool', content: textOf(message.content), tool_call_id: message.tool_call_id };
      case 'developer':
        return { role: 'system', content: textOf(message.content) };
      default:
        return { role: message.role, content: textOf(message.content) };
    }
  });
}
