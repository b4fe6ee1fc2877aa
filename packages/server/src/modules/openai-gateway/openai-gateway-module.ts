import {
  assertModelAllowed,
  EnsembleError,
  type KindExpectation,
  type ModelDescriptor,
  type ModelRepository,
  type ModelRuntimeManager,
  type UsageRecorder,
} from '@ensemble/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { modelParamsSchema, modelRefOf, nameDepths } from '../models/model-name-params.ts';
import { type CallAbort, callAbort } from './call-abort.ts';
import { chatCompletionEnvelopeSchema, embeddingsEnvelopeSchema } from './chat-completion-envelope.ts';
import { completeChat, streamAddsUsage, streamChat, type TargetCallContext } from './chat-target.ts';
import { embed } from './embeddings-target.ts';
import { formatGatewayError } from './gateway-error-body.ts';
import { modelObject } from './model-object.ts';
import { ModelTargets } from './model-targets.ts';
import { OpenAiStreamScanner } from './openai-stream-scanner.ts';
import { targetLabel } from './target-label.ts';
import { createUpstreamDispatcher } from './upstream-dispatcher.ts';
import { UpstreamRefusal } from './upstream-errors.ts';
import { UsageMeter } from './usage-meter.ts';
import { writeChatStream } from './write-chat-stream.ts';

export interface OpenAiGatewayModuleOptions {
  runtimes: ModelRuntimeManager;
  models: ModelRepository;
  /** Bounds a chat completion (a whole stream included); generous, since local models are slow. */
  completionTimeoutMs?: number;
  /** Told of every chat and embeddings call (one event each, off the request path); none: not recorded. */
  usage?: UsageRecorder;
  /**
   * Ask OpenAI-wire upstreams for a stream's usage chunk even when the client did not, so the ledger
   * has token counts (it is taken out of what the client gets). Default true.
   */
  askStreamUsage?: boolean;
  /** How long a model name's resolution is reused before it is refreshed (default 2 s). */
  modelCacheTtlMs?: number;
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
 * every model in the registry. Models whose upstream speaks OpenAI's wire format get the request
 * forwarded as it came and the upstream's bytes back (a pass-through, no LangChain); the others go
 * through their LangChain runtimes and answer the same format. Errors come in OpenAI's exact shape,
 * so the official SDKs raise their own error classes; every call leaves one usage event.
 */
export function openAiGatewayModule(options: OpenAiGatewayModuleOptions): FastifyPluginAsyncZod {
  const { runtimes, models, usage } = options;
  const completionTimeoutMs = options.completionTimeoutMs ?? 10 * 60_000;
  const askStreamUsage = options.askStreamUsage ?? true;
  return async (app) => {
    const dispatcher = createUpstreamDispatcher();
    app.addHook('onClose', async () => {
      await dispatcher.close();
    });
    const targets = new ModelTargets(runtimes, { ttlMs: options.modelCacheTtlMs ?? 2_000 });
    app.registerErrorFormatter('/v1', formatGatewayError);

    /** The catch of every call: the client gets the upstream's own refusal, or the error as the catalogue says. */
    const failed = (reply: FastifyReply, meter: UsageMeter, abort: CallAbort, error: unknown): FastifyReply => {
      if (abort.clientGone()) {
        meter.clientClosed();
        throw error;
      }
      const refusal = UpstreamRefusal.find(error);
      if (refusal !== undefined) {
        meter.fail(refusal.status, refusal.code);
        return reply.code(refusal.status).type(refusal.contentType).send(refusal.body);
      }
      const thrown = abort.signal.aborted ? abort.signal.reason : error;
      meter.failWith(thrown);
      throw thrown;
    };

    const callContext = (abort: CallAbort): TargetCallContext => ({ dispatcher, signal: abort.signal, askStreamUsage });

    app.post(
      '/v1/chat/completions',
      {
        // A stream may run for minutes: hold scale-in protection, and allow more than the default timeout.
        config: { scaleInProtection: true },
        handlerTimeout: completionTimeoutMs + 5_000,
        schema: {
          tags,
          summary: 'Create a chat completion (OpenAI-compatible)',
          description:
            '`model` is a registry name or ref. With `stream: true` the answer is `text/event-stream` of ' +
            '`chat.completion.chunk`s ending in `data: [DONE]`; a failure mid-stream sends an error chunk instead. ' +
            'Fields not listed here are passed to OpenAI-wire upstreams as sent.',
          body: chatCompletionEnvelopeSchema,
        },
      },
      async (request: FastifyRequest<{ Body: Record<string, unknown> & { model: string } }>, reply) => {
        const { body, principal } = request;
        const stream = body.stream === true;
        const meter = new UsageMeter(usage, request, { endpoint: 'chat', requested: body.model, stream });
        const abort = callAbort(reply, completionTimeoutMs);
        try {
          assertModelAllowed(principal, body.model);
          const loaded = await targets.resolve(principal.projectId, body.model, chatExpectation);
          const target = targetLabel(loaded.descriptor);
          meter.target({ descriptor: loaded.descriptor });
          reply.header('x-ensemble-target', target);
          reply.header('x-ensemble-model-version', String(loaded.descriptor.version));
          if (!stream) {
            const answer = await completeChat(loaded, body, callContext(abort));
            meter.succeed(answer.usage);
            return reply.type(answer.contentType).send(answer.body);
          }
          const clientAsked = (body.stream_options as { include_usage?: boolean } | null | undefined)?.include_usage;
          const iterator = (await streamChat(loaded, body, callContext(abort)))[Symbol.asyncIterator]();
          // The first chunk before any byte: a target that fails at once gets an ordinary error status.
          const first = await iterator.next();
          await writeChatStream(request, reply, {
            first,
            iterator,
            scanner: new OpenAiStreamScanner({
              stripUsage: streamAddsUsage(loaded, clientAsked === true, askStreamUsage),
            }),
            meter,
            target,
            clientGone: abort.clientGone,
          });
          return reply;
        } catch (error) {
          return failed(reply, meter, abort, error);
        } finally {
          abort.dispose();
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
          body: embeddingsEnvelopeSchema,
        },
      },
      async (request: FastifyRequest<{ Body: Record<string, unknown> & { model: string } }>, reply) => {
        const { body, principal } = request;
        const meter = new UsageMeter(usage, request, { endpoint: 'embeddings', requested: body.model, stream: false });
        const abort = callAbort(reply, completionTimeoutMs);
        try {
          assertModelAllowed(principal, body.model);
          const loaded = await targets.resolve(principal.projectId, body.model, embeddingExpectation);
          meter.target({ descriptor: loaded.descriptor });
          reply.header('x-ensemble-target', targetLabel(loaded.descriptor));
          const answer = await embed(loaded, body, callContext(abort));
          meter.succeed(answer.usage);
          return reply.type(answer.contentType).send(answer.body);
        } catch (error) {
          return failed(reply, meter, abort, error);
        } finally {
          abort.dispose();
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
