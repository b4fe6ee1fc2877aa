import { randomBytes } from 'node:crypto';
import { EnsembleError } from '@ensemble/core';
import type { ResponsesRequest } from './responses-request.ts';

/** OpenAI-style ids: `resp_…`, `msg_…`, `fc_…`. */
export function responseItemId(prefix: 'resp' | 'msg' | 'fc'): string {
  return `${prefix}_${randomBytes(24).toString('hex')}`;
}

export interface ResponsesUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

/** A message's content: text, or the model's refusal (structured outputs). */
export type OutputContentPart =
  | { type: 'output_text'; text: string; annotations: []; logprobs: [] }
  | { type: 'refusal'; refusal: string };

export type OutputItem =
  | {
      id: string;
      type: 'message';
      status: 'in_progress' | 'completed' | 'incomplete';
      role: 'assistant';
      content: OutputContentPart[];
    }
  | {
      id: string;
      type: 'function_call';
      status: 'in_progress' | 'completed' | 'incomplete';
      call_id: string;
      name: string;
      arguments: string;
    };

export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed';

/** What one response says about itself apart from its output: set once when the call starts. */
export interface ResponseHead {
  id: string;
  createdAt: number;
  /** The name asked for (a model or a route); `x-ensemble-target` says which model answered. */
  model: string;
  request: ResponsesRequest;
}

/** Chat usage (`prompt_tokens`, …) in the Responses API's words. */
export function responsesUsage(usage: unknown): ResponsesUsage {
  const chat = (typeof usage === 'object' && usage !== null ? usage : {}) as {
    prompt_tokens?: number;
    completion_tokens?: number;
    total_tokens?: number;
    prompt_tokens_details?: { cached_tokens?: number } | null;
    completion_tokens_details?: { reasoning_tokens?: number } | null;
  };
  const input = chat.prompt_tokens ?? 0;
  const output = chat.completion_tokens ?? 0;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: chat.prompt_tokens_details?.cached_tokens ?? 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: chat.completion_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: chat.total_tokens ?? input + output,
  };
}

/**
 * The `response` object: what was asked echoed back (Ensemble stores nothing, so `store: false`),
 * the output, and the status (`incomplete` with its reason when the model hit `max_output_tokens`).
 */
export function responseObject(
  head: ResponseHead,
  state: {
    status: ResponseStatus;
    output: OutputItem[];
    usage: ResponsesUsage | null;
    incompleteReason?: 'max_output_tokens' | 'content_filter';
    error?: { code: string; message: string };
  },
): Record<string, unknown> {
  const { request } = head;
  return {
    id: head.id,
    object: 'response',
    created_at: head.createdAt,
    status: state.status,
    background: false,
    error: state.error ?? null,
    incomplete_details: state.incompleteReason === undefined ? null : { reason: state.incompleteReason },
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    max_tool_calls: null,
    model: head.model,
    output: state.output,
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: null,
    reasoning: { effort: request.reasoning?.effort ?? null, summary: null },
    store: false,
    temperature: request.temperature ?? 1,
    text: {
      format: request.text?.format ?? { type: 'text' },
      ...(typeof request.text?.verbosity === 'string' ? { verbosity: request.text.verbosity } : {}),
    },
    tool_choice: request.tool_choice ?? 'auto',
    tools: (request.tools ?? []).map((tool) => ({
      type: 'function',
      name: tool.name,
      description: tool.description ?? null,
      parameters: tool.parameters ?? null,
      strict: tool.strict ?? true,
    })),
    top_p: request.top_p ?? 1,
    truncation: 'disabled',
    usage: state.usage,
    user: request.user ?? null,
    metadata: request.metadata ?? {},
  };
}

interface ChatCompletion {
  choices?: Array<{
    finish_reason?: string | null;
    message?: {
      content?: string | null;
      refusal?: string | null;
      tool_calls?: Array<{ id?: string; function?: { name?: string; arguments?: string } }> | null;
    };
  }>;
  usage?: unknown;
}

/** Why a response stopped short, from the chat finish reason. */
export function incompleteReasonOf(finishReason: unknown): 'max_output_tokens' | 'content_filter' | undefined {
  if (finishReason === 'length') return 'max_output_tokens';
  if (finishReason === 'content_filter') return 'content_filter';
  return undefined;
}

/** A whole chat completion (the bytes a target answered) as the Responses object. */
export function responseFromCompletion(head: ResponseHead, body: Buffer): Record<string, unknown> {
  let completion: ChatCompletion;
  try {
    completion = JSON.parse(body.toString('utf8')) as ChatCompletion;
  } catch {
    throw new EnsembleError('upstream_error', 'the model answered a chat completion that is not JSON');
  }
  const choice = completion.choices?.[0];
  if (choice === undefined) throw new EnsembleError('upstream_error', 'the model answered no choice');
  const message = choice.message ?? {};
  const incompleteReason = incompleteReasonOf(choice.finish_reason);
  const status = incompleteReason === undefined ? 'completed' : 'incomplete';
  const output: OutputItem[] = [];
  const calls = message.tool_calls ?? [];
  const content: OutputContentPart[] = [];
  const text = message.content ?? '';
  if (text !== '') content.push({ type: 'output_text', text, annotations: [], logprobs: [] });
  if (typeof message.refusal === 'string' && message.refusal !== '') {
    content.push({ type: 'refusal', refusal: message.refusal });
  }
  if (content.length === 0 && calls.length === 0)
    content.push({ type: 'output_text', text: '', annotations: [], logprobs: [] });
  if (content.length > 0)
    output.push({ id: responseItemId('msg'), type: 'message', status, role: 'assistant', content });
  calls.forEach((call, index) => {
    output.push({
      id: responseItemId('fc'),
      type: 'function_call',
      status: 'completed',
      call_id: call.id ?? `call_${index}`,
      name: call.function?.name ?? '',
      arguments: call.function?.arguments ?? '',
    });
  });
  return responseObject(head, {
    status,
    output,
    usage: responsesUsage(completion.usage),
    ...(incompleteReason === undefined ? {} : { incompleteReason }),
  });
}
