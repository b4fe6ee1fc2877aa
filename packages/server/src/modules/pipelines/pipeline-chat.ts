import { randomBytes } from 'node:crypto';
import { assertModelAllowed, EnsembleError, errorOf, type PipelineDefinition, textOf } from '@ensemble/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { clientSignal } from '../model-runtime/client-signal.ts';
import type { PipelineService } from './pipeline-service.ts';

/** `model: "pipeline/<name>"` (with `@version` or `:alias`) on `/v1/chat/completions`. */
export const pipelineModelPrefix = 'pipeline/';

interface ChatBody {
  model: string;
  messages: Array<{ role: string; content?: unknown }>;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
}

/** A message's text: a string, or the text parts of a content array. */
function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (typeof part === 'object' && part !== null && 'text' in part ? String(part.text) : ''))
      .join('');
  }
  return '';
}

/**
 * The steps whose tokens are the answer's: the final step when it is a model step (or a branch, whose
 * chosen case ends in one). Other final steps (a vote, a transform) answer in one chunk at the end.
 */
function streamedPrefix(definition: PipelineDefinition): string | undefined {
  if (definition.output !== undefined) return undefined;
  const last = definition.steps.at(-1);
  if (last?.kind === 'model') return last.id;
  if (last?.kind === 'branch') return `${last.id}/`;
  return undefined;
}

/**
 * Runs a pipeline as if it were a chat model: the input is `{text: <the last user message>, messages}`,
 * the output comes back as the assistant's message in OpenAI's shape (a string as it is, anything else
 * as JSON), streamed as `chat.completion.chunk`s from the final step's tokens.
 */
export async function pipelineChat(
  service: PipelineService,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const body = request.body as ChatBody;
  const { principal } = request;
  assertModelAllowed(principal, body.model);
  const ref = body.model.slice(pipelineModelPrefix.length);
  const messages = body.messages.map((message) => ({ role: message.role, content: messageText(message.content) }));
  const lastUser = messages.filter((message) => message.role === 'user').at(-1);
  if (lastUser === undefined) {
    throw new EnsembleError('validation_failed', 'body.messages: a pipeline needs a user message', {
      field: 'body.messages',
    });
  }
  const input = { text: lastUser.content, messages };
  const signal = clientSignal(reply);
  const id = `chatcmpl-${randomBytes(12).toString('hex')}`;
  const created = Math.floor(Date.now() / 1000);

  if (body.stream !== true) {
    const started = await service.start({
      projectId: principal.projectId,
      keyId: principal.keyId,
      ref,
      input,
      source: 'gateway',
      signal,
      field: 'body.model',
    });
    reply.header('x-ensemble-run-id', started.runId);
    reply.header('x-ensemble-target', `${pipelineModelPrefix}${started.pipeline.name}@${started.pipeline.version}`);
    const result = await started.result;
    const run = await service.run(principal.projectId, started.runId);
    const promptTokens = run?.inputTokens ?? 0;
    const completionTokens = run?.outputTokens ?? 0;
    return reply.send({
      id,
      object: 'chat.completion',
      created,
      model: body.model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: textOf(result.output), refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      },
    });
  }

  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) =>
    `data: ${JSON.stringify({
      id,
      object: 'chat.completion.chunk',
      created,
      model: body.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    })}\n\n`;
  const pending: string[] = [];
  let wake: (() => void) | undefined;
  let streamed = false;
  let prefix: string | undefined;
  const push = (text: string) => {
    pending.push(text);
    wake?.();
  };
  const started = await service.start({
    projectId: principal.projectId,
    keyId: principal.keyId,
    ref,
    input,
    source: 'gateway',
    signal,
    field: 'body.model',
    onEvent: (event) => {
      if (event.type !== 'token' || prefix === undefined) return;
      if (event.path === prefix || event.path.startsWith(prefix)) {
        streamed = true;
        push(chunk({ content: event.delta }));
      }
    },
  });
  prefix = streamedPrefix(started.pipeline.definition);
  let done = false;
  started.result.then(
    async (result) => {
      if (!streamed) push(chunk({ content: textOf(result.output) }));
      push(chunk({}, 'stop'));
      if (body.stream_options?.include_usage === true) {
        const run = await service.run(principal.projectId, started.runId).catch(() => undefined);
        const usage = {
          prompt_tokens: run?.inputTokens ?? 0,
          completion_tokens: run?.outputTokens ?? 0,
          total_tokens: (run?.inputTokens ?? 0) + (run?.outputTokens ?? 0),
        };
        push(
          `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: body.model, choices: [], usage })}\n\n`,
        );
      }
      push('data: [DONE]\n\n');
      done = true;
      wake?.();
    },
    (error: unknown) => {
      const failure = errorOf(error);
      const status = EnsembleError.isInstance(error) ? error.httpStatus : 500;
      push(
        `data: ${JSON.stringify({ error: { message: failure.message, type: 'server_error', param: null, code: failure.code, status } })}\n\n`,
      );
      done = true;
      wake?.();
    },
  );
  reply.hijack();
  const response = reply.raw;
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': request.id,
    'x-ensemble-run-id': started.runId,
    'x-ensemble-target': `${pipelineModelPrefix}${started.pipeline.name}@${started.pipeline.version}`,
  });
  response.write(chunk({ role: 'assistant', content: '', refusal: null }));
  while (true) {
    if (pending.length === 0) {
      if (done) break;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      continue;
    }
    for (const text of pending.splice(0)) if (!response.destroyed) response.write(text);
  }
  response.end();
  return reply;
}
