import {
  assertModelAllowed,
  EnsembleError,
  type KindExpectation,
  type ModelDescriptor,
  type ModelRepository,
  type ModelRuntimeManager,
  type UsageRecorder,
  validationError,
} from '@ensemble/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { clientSignal } from '../model-runtime/client-signal.ts';
import { modelParamsSchema, modelRefOf, nameDepths } from '../models/model-name-params.ts';
import { chatCompletionJson } from './chat-completion-json.ts';
import { chatCompletionRequestSchema } from './chat-completion-request.ts';
import { prepareChatCall } from './chat-runnable.ts';
import { embeddingsRequestSchema } from './embeddings-request.ts';
import { encodeEmbeddingBase64 } from './encode-embedding.ts';
import { formatGatewayError } from './gateway-error-body.ts';
import { modelObject } from './model-object.ts';
import { streamChatCompletion } from './stream-chat-completion.ts';
import { toChatInput } from './to-chat-input.ts';
import { UsageMeter } from './usage-meter.ts';

export interface OpenAiGatewayModuleOptions {
  runtimes: ModelRuntimeManager;
  models: ModelRepository;
  /** Bounds a chat completion (a whole stream included); generous, since local models are slow. */
  completionTimeoutMs?: number;
  /** Told of every chat and embeddings call (one event each, off the request path); none: not recorded. */
  usage?: UsageRecorder;
}

const tags = ['openai-compatible'];

const chatExpectation: KindExpectation = { kinds: ['chat'], as: 'a chat model', field: 'body.model' };
const embeddingExpectation: KindExpectation = {
  kinds: ['embedding'],
  as: 'an embedding model',
  field: 'body.model',
};

/**
 * OpenAI's API under `/v1`: chat completions (streamed or not), embeddings and the model list, for
 * every model in the registry, through the same runtimes as `/api/models/{name}/invoke`. Errors come
 * in OpenAI's exact shape, so the official SDKs raise their own error classes.
 */
export function openAiGatewayModule(options: OpenAiGatewayModuleOptions): FastifyPluginAsyncZod {
  const { runtimes, models, usage } = options;
  const completionTimeoutMs = options.completionTimeoutMs ?? 10 * 60_000;
  return async (app) => {
    app.registerErrorFormatter('/v1', formatGatewayError);

    app.post(
      '/v1/chat/completions',
      {
        // A stream may run for minutes: hold scale-in protection, and allow more than the default timeout.
        config: { scaleInProtection: true },
        handlerTimeout: completionTimeoutMs,
        schema: {
          tags,
          summary: 'Create a chat completion (OpenAI-compatible)',
          description:
            '`model` is a registry name or ref. With `stream: true` the answer is `text/event-stream` of ' +
            '`chat.completion.chunk`s ending in `data: [DONE]`; a failure mid-stream sends an error chunk instead.',
          body: chatCompletionRequestSchema,
        },
      },
      async (request, reply) => {
        const { body, principal } = request;
        const stream = body.stream === true;
        const meter = new UsageMeter(usage, request, { endpoint: 'chat', requested: body.model, stream });
        const signal = clientSignal(reply);
        try {
          assertModelAllowed(principal, body.model);
          const { descriptor, runtime } = await runtimes.runtimeFor(principal.projectId, body.model, chatExpectation);
          meter.target({ descriptor });
          const chat = requirePart(runtime.chat, descriptor);
          const input = toChatInput(body.messages);
          const { runnable, options: callOptions } = prepareChatCall(chat, descriptor, body);
          reply.header('x-ensemble-model-version', String(descriptor.version));
          if (stream) {
            await streamChatCompletion(request, reply, {
              runnable,
              input,
              options: callOptions,
              model: descriptor.name,
              includeUsage: body.stream_options?.include_usage === true,
              maxDurationMs: completionTimeoutMs,
              meter,
            });
            return reply;
          }
          const answer = await runnable.invoke(input, { ...callOptions, signal });
          const completion = chatCompletionJson(answer, descriptor.name);
          meter.succeed({
            inputTokens: completion.usage.prompt_tokens,
            outputTokens: completion.usage.completion_tokens,
          });
          return completion;
        } catch (error) {
          if (signal.aborted) meter.clientClosed();
          else meter.failWith(error);
          throw error;
        }
      },
    );

    app.post(
      '/v1/embeddings',
      {
        schema: {
          tags,
          summary: 'Create embeddings (OpenAI-compatible)',
          description: '`encoding_format: "base64"` answers little-endian float32 vectors in base64, as OpenAI does.',
          body: embeddingsRequestSchema,
        },
      },
      async (request, reply) => {
        const { body, principal } = request;
        const meter = new UsageMeter(usage, request, { endpoint: 'embeddings', requested: body.model, stream: false });
        const signal = clientSignal(reply);
        try {
          assertModelAllowed(principal, body.model);
          const { descriptor, runtime } = await runtimes.runtimeFor(
            principal.projectId,
            body.model,
            embeddingExpectation,
          );
          meter.target({ descriptor });
          const texts = typeof body.input === 'string' ? [body.input] : body.input;
          const vectors = await requirePart(runtime.embeddings, descriptor).embedDocuments(texts);
          const dimensions = vectors[0]?.length ?? 0;
          if (body.dimensions !== undefined && body.dimensions !== dimensions) {
            throw validationError('body.dimensions', `model '${descriptor.name}' answers ${dimensions} dimensions`);
          }
          const base64 = body.encoding_format === 'base64';
          meter.succeed({ inputTokens: 0, outputTokens: 0 });
          return {
            object: 'list' as const,
            data: vectors.map((vector, index) => ({
              object: 'embedding' as const,
              index,
              embedding: base64 ? encodeEmbeddingBase64(vector) : vector,
            })),
            model: descriptor.name,
            // Embedding runtimes do not report token counts yet.
            usage: { prompt_tokens: 0, total_tokens: 0 },
          };
        } catch (error) {
          if (signal.aborted) meter.clientClosed();
          else meter.failWith(error);
          throw error;
        }
      },
    );

    app.get('/v1/models', { schema: { tags, summary: 'List the models (OpenAI-compatible)' } }, async (request) => {
      const { allowedModels, projectId } = request.principal;
      const listed = await listModels(models, projectId);
      // A key limited to some models sees only those.
      const visible = allowedModels === undefined ? listed : listed.filter((m) => allowedModels.includes(m.name));
      return { object: 'list' as const, data: visible.map(modelObject) };
    });

    for (const depth of nameDepths) {
      const names = ['name', 'name2', 'name3'].slice(0, depth).map((param) => `:${param}`);
      app.get(
        `/v1/models/${names.join('/')}`,
        {
          schema: {
            hide: depth > 1,
            tags,
            summary: 'Retrieve a model (OpenAI-compatible); the id may contain `/`',
            params: modelParamsSchema(depth, {}),
          },
        },
        async (request) => {
          const ref = modelRefOf(request.params);
          const descriptor = await models.resolve(request.principal.projectId, ref);
          assertModelAllowed(request.principal, descriptor.name);
          if (descriptor.status === 'retired') {
            throw new EnsembleError('not_found', `model '${descriptor.name}' is retired`);
          }
          return modelObject(descriptor);
        },
      );
    }
  };
}

/** Every servable model of the project, page after page (the registry pages by name). */
async function listModels(models: ModelRepository, project: string): Promise<ModelDescriptor[]> {
  const all: ModelDescriptor[] = [];
  let after: string | undefined;
  do {
    const page = await models.list({ projectId: project, limit: 500, ...(after === undefined ? {} : { after }) });
    all.push(...page.items.filter((model) => model.status !== 'retired'));
    after = page.nextCursor;
  } while (after !== undefined);
  return all;
}

/** A provider that built a runtime without the part its kind promises is a bug, not the caller's fault. */
function requirePart<T>(part: T | undefined, descriptor: ModelDescriptor): T {
  if (part === undefined) {
    throw new EnsembleError('internal_error', `the runtime of model '${descriptor.name}' lacks what its kind needs`);
  }
  return part;
}
