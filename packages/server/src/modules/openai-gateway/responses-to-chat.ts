import { EnsembleError, validationError } from '@ensemble/core';
import type { z } from 'zod';
import {
  contentPartSchema,
  functionCallItemSchema,
  functionCallOutputItemSchema,
  type ResponsesContentPart,
  type ResponsesRequest,
  responsesMessageSchema,
} from './responses-request.ts';

const stateless = 'not supported by Ensemble, which keeps no responses; send the whole conversation in `input`';

type ChatContent = string | Array<Record<string, unknown>>;
type ChatMessage = Record<string, unknown> & { role: string };

/**
 * A Responses request as the chat completion that answers it (`model`, `messages`, sampling, tools,
 * `response_format`), so the call runs through the chat path unchanged: routes, cache, ledger,
 * pass-through or LangChain. What needs stored state or a hosted tool is a 400 naming the field.
 */
export function responsesToChat(request: ResponsesRequest): Record<string, unknown> & { model: string } {
  refuseUnsupported(request);
  const messages: ChatMessage[] = [];
  if (typeof request.instructions === 'string' && request.instructions !== '') {
    messages.push({ role: 'system', content: request.instructions });
  }
  if (typeof request.input === 'string') messages.push({ role: 'user', content: request.input });
  else {
    for (const [index, item] of request.input.entries()) addInputItem(messages, item, `body.input[${index}]`);
  }
  if (messages.length === 0) throw validationError('body.input', 'holds no message');

  const tools = (request.tools ?? []).map((tool, index) => chatTool(tool, `body.tools[${index}]`));
  const format = request.text?.format;
  const chat: Record<string, unknown> & { model: string } = { model: request.model, messages };
  if (request.stream === true) chat.stream = true;
  if (typeof request.max_output_tokens === 'number') chat.max_completion_tokens = request.max_output_tokens;
  if (typeof request.temperature === 'number') chat.temperature = request.temperature;
  if (typeof request.top_p === 'number') chat.top_p = request.top_p;
  if (tools.length > 0) {
    chat.tools = tools;
    // OpenAI's chat refuses parallel_tool_calls without tools.
    if (typeof request.parallel_tool_calls === 'boolean') chat.parallel_tool_calls = request.parallel_tool_calls;
  }
  if (request.tool_choice !== undefined && request.tool_choice !== null) {
    chat.tool_choice = chatToolChoice(request.tool_choice);
  }
  if (format?.type === 'json_object') chat.response_format = { type: 'json_object' };
  if (format?.type === 'json_schema') {
    const { name, schema, description, strict } = format;
    chat.response_format = {
      type: 'json_schema',
      json_schema: {
        name,
        schema,
        ...(description === undefined ? {} : { description }),
        ...(strict === undefined || strict === null ? {} : { strict }),
      },
    };
  }
  if (typeof request.user === 'string') chat.user = request.user;
  // Chat fields only OpenAI's own API knows (reasoning models, gpt-5): kept for those targets alone (chatBodyFor).
  if (typeof request.reasoning?.effort === 'string') chat.reasoning_effort = request.reasoning.effort;
  if (typeof request.text?.verbosity === 'string') chat.verbosity = request.text.verbosity;
  if (typeof request.service_tier === 'string') chat.service_tier = request.service_tier;
  if (typeof request.safety_identifier === 'string') chat.safety_identifier = request.safety_identifier;
  if (typeof request.prompt_cache_key === 'string') chat.prompt_cache_key = request.prompt_cache_key;
  // For conditional routes and the ledger only: the pass-through sends metadata upstream only with `store`.
  if (request.metadata !== undefined && request.metadata !== null) chat.metadata = request.metadata;
  return chat;
}

const openAiOnlyFields = ['reasoning_effort', 'verbosity', 'service_tier', 'safety_identifier', 'prompt_cache_key'];

/**
 * The chat body for one target: OpenAI's own models (and Azure's) take `max_completion_tokens`
 * (reasoning models refuse `max_tokens`) and OpenAI's newer fields (`reasoning_effort`, `verbosity`,
 * …); other OpenAI-compatible servers (vLLM, Ollama, …) know `max_tokens` best and may refuse what
 * they do not know, so they get neither.
 */
export function chatBodyFor(
  chat: Record<string, unknown> & { model: string },
  provider: string,
): Record<string, unknown> & { model: string } {
  if (provider === 'openai' || provider === 'azure-openai') return chat;
  if (chat.max_completion_tokens === undefined && !openAiOnlyFields.some((field) => field in chat)) return chat;
  const { max_completion_tokens: maxTokens, ...rest } = chat;
  for (const field of openAiOnlyFields) delete rest[field];
  return maxTokens === undefined ? rest : { ...rest, max_tokens: maxTokens };
}

function refuseUnsupported(request: ResponsesRequest): void {
  if (request.previous_response_id !== undefined && request.previous_response_id !== null) {
    throw validationError('body.previous_response_id', stateless);
  }
  if (request.conversation !== undefined && request.conversation !== null) {
    throw validationError('body.conversation', stateless);
  }
  if (request.background === true) {
    throw validationError(
      'body.background',
      'not supported by Ensemble; use the jobs API (/v1/batches) for work in the background',
    );
  }
  if (request.prompt !== undefined && request.prompt !== null) {
    throw validationError('body.prompt', 'stored prompts are not supported by Ensemble; send the text in `input`');
  }
}

function parseAt<S extends z.ZodType>(schema: S, value: unknown, path: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const param = (issue?.path ?? []).reduce<string>(
    (at, segment) => (typeof segment === 'number' ? `${at}[${segment}]` : `${at}.${String(segment)}`),
    path,
  );
  throw validationError(param, issue?.message ?? 'is invalid');
}

function addInputItem(messages: ChatMessage[], item: Record<string, unknown>, path: string): void {
  const type = item.type ?? 'message';
  if (type === 'message') {
    const message = parseAt(responsesMessageSchema, item, path);
    // `developer` is the newer name of `system`; every chat server knows `system`.
    const role = message.role === 'developer' ? 'system' : message.role;
    messages.push({ role, content: chatContent(message.content, role, `${path}.content`) });
    return;
  }
  if (type === 'function_call') {
    const call = parseAt(functionCallItemSchema, item, path);
    const toolCall = { id: call.call_id, type: 'function', function: { name: call.name, arguments: call.arguments } };
    // Calls made in one turn belong to one assistant message (with its text, when it had some).
    const last = messages.at(-1);
    if (last?.role === 'assistant') {
      last.tool_calls = [...((last.tool_calls as unknown[] | undefined) ?? []), toolCall];
      return;
    }
    messages.push({ role: 'assistant', content: null, tool_calls: [toolCall] });
    return;
  }
  if (type === 'function_call_output') {
    const output = parseAt(functionCallOutputItemSchema, item, path);
    messages.push({
      role: 'tool',
      tool_call_id: output.call_id,
      content: chatContent(output.output, 'tool', `${path}.output`),
    });
    return;
  }
  // Earlier reasoning is the model's own scratch work; Ensemble never returns it, so it has nothing to replay.
  if (type === 'reasoning') return;
  if (type === 'item_reference') throw validationError(`${path}.type`, stateless);
  throw validationError(
    `${path}.type`,
    `'${String(type)}' items are not supported by Ensemble (messages, function_call and function_call_output are)`,
  );
}

const partTypes: ReadonlySet<string> = new Set(['input_text', 'output_text', 'refusal', 'input_image']);

/** Text parts become one string where chat servers expect one; images stay parts (users only). */
function chatContent(content: string | Array<{ type: string }>, role: string, path: string): ChatContent {
  if (typeof content === 'string') return content;
  const parts = content.map((sent, index): Record<string, unknown> => {
    if (!partTypes.has(sent.type)) {
      throw validationError(
        `${path}[${index}].type`,
        `'${sent.type}' parts are not supported by Ensemble (input_text, output_text, refusal, input_image)`,
      );
    }
    const part: ResponsesContentPart = parseAt(contentPartSchema, sent, `${path}[${index}]`);
    if (part.type === 'input_image') {
      if (role !== 'user') throw validationError(`${path}[${index}]`, 'images are only supported in user messages');
      return { type: 'image_url', image_url: { url: part.image_url, ...(part.detail ? { detail: part.detail } : {}) } };
    }
    return { type: 'text', text: part.type === 'refusal' ? part.refusal : part.text };
  });
  if (parts.every((part) => part.type === 'text')) {
    if (parts.length === 1 || role !== 'user') return parts.map((part) => part.text).join('');
  }
  return parts;
}

function chatTool(tool: NonNullable<ResponsesRequest['tools']>[number], path: string): Record<string, unknown> {
  if (tool.type !== 'function') {
    throw validationError(
      `${path}.type`,
      `built-in tools ('${tool.type}') are not supported by Ensemble; declare function tools and run them yourself`,
    );
  }
  if (typeof tool.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(tool.name)) {
    throw validationError(`${path}.name`, 'must be 1-64 letters, digits, _ or -');
  }
  return {
    type: 'function',
    function: {
      name: tool.name,
      ...(typeof tool.description === 'string' ? { description: tool.description } : {}),
      ...(tool.parameters === undefined || tool.parameters === null ? {} : { parameters: tool.parameters }),
      ...(typeof tool.strict === 'boolean' ? { strict: tool.strict } : {}),
    },
  };
}

function chatToolChoice(choice: NonNullable<ResponsesRequest['tool_choice']>): unknown {
  if (typeof choice === 'string') return choice;
  if (choice.type === 'function' && typeof choice.name === 'string') {
    return { type: 'function', function: { name: choice.name } };
  }
  throw validationError(
    'body.tool_choice',
    `'${choice.type}' is not supported by Ensemble (none, auto, required or a function)`,
  );
}

/** Chat fields as the Responses request named them, for errors found after the translation. */
const responsesFields: ReadonlyArray<[RegExp, string]> = [
  [/^body\.response_format\b/, 'body.text.format'],
  [/^body\.(max_tokens|max_completion_tokens)$/, 'body.max_output_tokens'],
  // Instructions come first as a message: indexes differ, the field is still the input.
  [/^body\.messages\b.*/, 'body.input'],
];

/**
 * A validation error found on the translated chat request (by a LangChain runtime: JSON schema or
 * tools on a model that cannot do them) named in the client's terms (`text.format`, not
 * `response_format`); anything else as it is.
 */
export function inResponsesTerms(error: unknown): unknown {
  if (!EnsembleError.isInstance(error) || error.code !== 'validation_failed' || error.field === undefined) return error;
  const field = error.field;
  const match = responsesFields.find(([pattern]) => pattern.test(field));
  if (match === undefined) return error;
  const said = error.message.startsWith(`${field}: `) ? error.message.slice(field.length + 2) : error.message;
  const renamed = field.replace(match[0], match[1]);
  return validationError(renamed, said, error.details);
}
