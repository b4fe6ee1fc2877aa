import { StringDecoder } from 'node:string_decoder';
import {
  incompleteReasonOf,
  type OutputContentPart,
  type OutputItem,
  type ResponseHead,
  type ResponsesUsage,
  responseItemId,
  responseObject,
  responsesUsage,
} from './response-object.ts';
import type { TokenCounts } from './usage-meter.ts';

type ToolCallDelta = { index?: number; id?: string; function?: { name?: string; arguments?: string } };

interface ChatChunk {
  error?: { message?: string; code?: string | null; type?: string } | string;
  choices?: Array<{
    finish_reason?: string | null;
    delta?: {
      content?: string | null;
      refusal?: string | null;
      tool_calls?: ToolCallDelta[] | null;
    };
  }>;
  usage?: unknown;
}

type MessageItem = Extract<OutputItem, { type: 'message' }>;
type FunctionCallItem = Extract<OutputItem, { type: 'function_call' }>;

interface OpenPart {
  type: 'output_text' | 'refusal';
  value: string;
}

interface OpenMessage {
  item: MessageItem;
  index: number;
  parts: OpenPart[];
}

/**
 * Turns a chat completion chunk stream (`data: {chat.completion.chunk}` … `data: [DONE]`, bytes as
 * they come) into the Responses API's event stream: `response.created`, `response.in_progress`, an
 * output item per message or function call with its content part and deltas, each item's `done`
 * events, then `response.completed` (or `response.incomplete`) with usage — every event numbered by
 * `sequence_number`. A failure becomes `response.failed` and an `error` event, on which the SDKs raise.
 */
export class ResponsesStreamTranslator {
  readonly #head: ResponseHead;
  readonly #decoder = new StringDecoder('utf8');
  #carry = '';
  #sequence = 0;
  readonly #output: OutputItem[] = [];
  #message: OpenMessage | undefined;
  /** Open function calls by their chat `index`: parallel calls may be streamed interleaved. */
  readonly #calls = new Map<number, { item: FunctionCallItem; index: number }>();
  #finishReason: string | null | undefined;
  #usage: ResponsesUsage | null = null;
  /** The upstream sent `[DONE]`: the answer is complete. */
  done = false;
  /** The upstream's error event, when it failed after the stream began. */
  upstreamError: { code: string; message: string } | undefined;

  constructor(head: ResponseHead) {
    this.#head = head;
  }

  /** Token counts for the ledger, once the usage chunk came. */
  get tokens(): TokenCounts | undefined {
    return this.#usage === null
      ? undefined
      : { inputTokens: this.#usage.input_tokens, outputTokens: this.#usage.output_tokens };
  }

  /** The first two events, sent before any chunk is translated. */
  start(): string {
    const response = this.#response('in_progress');
    return this.#event('response.created', { response }) + this.#event('response.in_progress', { response });
  }

  /** The events for `chunk` (complete chat events only; the rest waits for the next chunk). */
  push(chunk: Buffer | string): string {
    const text =
      this.#carry + (typeof chunk === 'string' ? chunk : this.#decoder.write(chunk)).replaceAll('\r\n', '\n');
    const end = text.lastIndexOf('\n\n');
    if (end < 0) {
      this.#carry = text;
      return '';
    }
    this.#carry = text.slice(end + 2);
    return this.#translate(text.slice(0, end));
  }

  /** What is left when the upstream ended (an event without its blank line). */
  end(): string {
    const rest = this.#carry + this.#decoder.end();
    this.#carry = '';
    return rest.trim() === '' ? '' : this.#translate(rest);
  }

  /** The closing events of a complete answer: open items done, then `response.completed` or `response.incomplete`. */
  finish(): string {
    const reason = incompleteReasonOf(this.#finishReason);
    const status = reason === undefined ? 'completed' : 'incomplete';
    let events = '';
    if (this.#output.length === 0) events += this.#openMessage() + this.#openPart('output_text');
    events += this.#closeOpen(status);
    const response = this.#response(status, reason === undefined ? {} : { incompleteReason: reason });
    return events + this.#event(reason === undefined ? 'response.completed' : 'response.incomplete', { response });
  }

  /** The closing events of a failed answer: `response.failed` (what came so far) and `error`. */
  fail(error: { code: string; message: string }): string {
    const response = this.#response('failed', { error });
    return (
      this.#event('response.failed', { response }) +
      this.#event('error', { code: error.code, message: error.message, param: null })
    );
  }

  #translate(events: string): string {
    let out = '';
    for (const block of events.split('\n\n')) {
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n');
      if (data === '') continue;
      if (data === '[DONE]') {
        this.done = true;
        continue;
      }
      let chunk: ChatChunk;
      try {
        chunk = JSON.parse(data) as ChatChunk;
      } catch {
        this.upstreamError ??= { code: 'upstream_error', message: 'the model sent a chunk that is not JSON' };
        continue;
      }
      out += this.#chunk(chunk);
    }
    return out;
  }

  #chunk(chunk: ChatChunk): string {
    if (chunk.error !== undefined) {
      const error = typeof chunk.error === 'string' ? { message: chunk.error } : chunk.error;
      this.upstreamError ??= {
        code: error.code ?? error.type ?? 'upstream_error',
        message: error.message ?? 'the model failed',
      };
      return '';
    }
    if (chunk.usage !== undefined && chunk.usage !== null) this.#usage = responsesUsage(chunk.usage);
    const choice = chunk.choices?.[0];
    if (choice === undefined) return '';
    if (choice.finish_reason !== undefined && choice.finish_reason !== null) this.#finishReason = choice.finish_reason;
    const delta = choice.delta ?? {};
    let out = '';
    if (typeof delta.content === 'string' && delta.content !== '')
      out += this.#messageDelta('output_text', delta.content);
    if (typeof delta.refusal === 'string' && delta.refusal !== '') out += this.#messageDelta('refusal', delta.refusal);
    for (const [position, call] of (delta.tool_calls ?? []).entries()) out += this.#toolCall(call, position);
    return out;
  }

  /** Text or refusal for the message (opened, with a part of that kind, when needed). */
  #messageDelta(type: OpenPart['type'], delta: string): string {
    let out = '';
    if (this.#message === undefined) out += this.#closeOpen('completed') + this.#openMessage();
    const message = this.#message as OpenMessage;
    if (message.parts.at(-1)?.type !== type) out += this.#openPart(type);
    const contentIndex = message.parts.length - 1;
    (message.parts[contentIndex] as OpenPart).value += delta;
    const where = { item_id: message.item.id, output_index: message.index, content_index: contentIndex };
    return (
      out +
      (type === 'output_text'
        ? this.#event('response.output_text.delta', { ...where, delta, logprobs: [] })
        : this.#event('response.refusal.delta', { ...where, delta }))
    );
  }

  #toolCall(call: ToolCallDelta, position: number): string {
    let out = '';
    const chatIndex = call.index ?? position;
    let open = this.#calls.get(chatIndex);
    if (open === undefined) {
      out += this.#closeMessage('completed');
      const item: FunctionCallItem = {
        id: responseItemId('fc'),
        type: 'function_call',
        status: 'in_progress',
        call_id: call.id ?? `call_${chatIndex}`,
        name: call.function?.name ?? '',
        arguments: '',
      };
      open = { item, index: this.#output.length };
      this.#calls.set(chatIndex, open);
      this.#output.push(item);
      out += this.#event('response.output_item.added', { output_index: open.index, item: { ...item } });
    } else if (call.function?.name !== undefined && open.item.name === '') {
      open.item.name = call.function.name;
    }
    const delta = call.function?.arguments ?? '';
    if (delta !== '') {
      open.item.arguments += delta;
      out += this.#event('response.function_call_arguments.delta', {
        item_id: open.item.id,
        output_index: open.index,
        delta,
      });
    }
    return out;
  }

  #openMessage(): string {
    const item: MessageItem = {
      id: responseItemId('msg'),
      type: 'message',
      status: 'in_progress',
      role: 'assistant',
      content: [],
    };
    const index = this.#output.length;
    this.#message = { item, index, parts: [] };
    this.#output.push(item);
    return this.#event('response.output_item.added', { output_index: index, item: { ...item, content: [] } });
  }

  #openPart(type: OpenPart['type']): string {
    const message = this.#message as OpenMessage;
    message.parts.push({ type, value: '' });
    return this.#event('response.content_part.added', {
      item_id: message.item.id,
      output_index: message.index,
      content_index: message.parts.length - 1,
      part: finalPart({ type, value: '' }),
    });
  }

  /** Ends the open message and function calls (their `done` events), if any. */
  #closeOpen(status: 'completed' | 'incomplete'): string {
    return this.#closeMessage(status) + this.#closeCalls();
  }

  #closeMessage(status: 'completed' | 'incomplete'): string {
    const message = this.#message;
    if (message === undefined) return '';
    this.#message = undefined;
    const { item, index, parts } = message;
    let out = '';
    for (const [contentIndex, open] of parts.entries()) {
      const where = { item_id: item.id, output_index: index, content_index: contentIndex };
      const part = finalPart(open);
      out +=
        (open.type === 'output_text'
          ? this.#event('response.output_text.done', { ...where, text: open.value, logprobs: [] })
          : this.#event('response.refusal.done', { ...where, refusal: open.value })) +
        this.#event('response.content_part.done', { ...where, part });
    }
    item.content = parts.map(finalPart);
    item.status = status;
    return out + this.#event('response.output_item.done', { output_index: index, item });
  }

  #closeCalls(): string {
    let out = '';
    for (const { item, index } of this.#calls.values()) {
      item.status = 'completed';
      out +=
        this.#event('response.function_call_arguments.done', {
          item_id: item.id,
          output_index: index,
          name: item.name,
          arguments: item.arguments,
        }) + this.#event('response.output_item.done', { output_index: index, item });
    }
    this.#calls.clear();
    return out;
  }

  #response(
    status: 'in_progress' | 'completed' | 'incomplete' | 'failed',
    extra: {
      incompleteReason?: 'max_output_tokens' | 'content_filter';
      error?: { code: string; message: string };
    } = {},
  ): Record<string, unknown> {
    const output = status === 'in_progress' ? [] : structuredClone(this.#output);
    return responseObject(this.#head, {
      status,
      output,
      usage: status === 'in_progress' ? null : this.#usage,
      ...extra,
    });
  }

  #event(type: string, fields: Record<string, unknown>): string {
    const data = JSON.stringify({ type, sequence_number: this.#sequence, ...fields });
    this.#sequence += 1;
    return `event: ${type}\ndata: ${data}\n\n`;
  }
}

function finalPart(part: OpenPart): OutputContentPart {
  return part.type === 'output_text'
    ? { type: 'output_text', text: part.value, annotations: [], logprobs: [] }
    : { type: 'refusal', refusal: part.value };
}
