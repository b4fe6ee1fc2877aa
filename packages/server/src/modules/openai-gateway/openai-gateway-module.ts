import {
  assertModelAllowed,
  EnsembleError,
  type KindExpectation,
  type ModelDescriptor,
  type ModelRepository,
  type ModelRuntimeManager,
  type RouteContext,
  type RouteLookup,
  type UsageRecorder,
} from '@ensemble/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { modelParamsSchema, modelRefOf, nameDepths } from '../models/model-name-params.ts';
import { type CallAbort, callAbort } from './call-abort.ts';
import { type CallOutcome, type CallRequest, CallRunner } from './call-runner.ts';
import { chatCompletionEnvelopeSchema, embeddingsEnvelopeSchema } from './chat-completion-envelope.ts';
import { completeChat, streamAddsUsage, streamChat, type TargetCallContext } from './chat-target.ts';
import { embed } from './embeddings-target.ts';
import { formatGatewayError } from './gateway-error-body.ts';
import { modelObject, routeObject } from './model-object.ts';
import { ModelTargets } from './model-targets.ts';
import { OpenAiStreamScanner } from './openai-stream-scanner.ts';
import { ProjectBreakers } from './project-breakers.ts';
import { RouteTargets } from './route-targets.ts';
import { systemClock } from './system-clock.ts';
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
  /** Route storage: a requested name is looked up as a route first, then as a model. None: models only. */
  routes?: RouteLookup;
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
    const breakers = new ProjectBreakers(systemClock, (projectId, target, from, to) =>
      app.log.warn({ projectId, target, from, to }, `circuit breaker ${to}`),
    );
    const runner = new CallRunner({
      targets,
      routes: options.routes,
      routeTargets: options.routes === undefined ? undefined : new RouteTargets(options.routes),
      breakers,
      clock: systemClock,
    });
    app.registerErrorFormatter('/v1', formatGatewayError);

    /** The call as the runner needs it; conditional routes see the request's metadata, headers, key and params. */
    const callRequest = (
      request: FastifyRequest<{ Body: GatewayBody }>,
      expectation: KindExpectation,
      meter: UsageMeter,
      abort: CallAbort,
    ): CallRequest => ({
      principal: request.principal,
      requested: request.body.model,
      expectation,
      signal: abort.signal,
      log: request.log,
      onRoute: (route) => meter.route(route.name),
      onTarget: (loaded) => meter.target({ descriptor: loaded.descriptor }),
      context: () => routeContext(request),
    });

    /** Says which model (and route) answered: headers and the usage record. */
    const answeredBy = (reply: FastifyReply, meter: UsageMeter, outcome: CallOutcome<unknown>): string => {
      const { descriptor } = outcome.loaded;
      const target = targetLabel(descriptor);
      meter.target({ descriptor, route: outcome.route?.name, attempts: outcome.attempts });
      reply.header('x-ensemble-target', target);
      reply.header('x-ensemble-model-version', String(descriptor.version));
      if (outcome.route !== undefined)
        reply.header('x-ensemble-route', `${outcome.route.name}@${outcome.route.version}`);
      return target;
    };

    /** The catch of every call: the client gets the upstream's own refusal, or the error as the catalogue says. */
    const failed = (reply: FastifyReply, meter: UsageMeter, abort: CallAbort, error: unknown): FastifyReply => {
      if (abort.clientGone()) {
        meter.clientClosed();
        throw error;
      }
      const attempts = EnsembleError.isInstance(error) ? error.details?.attempts : undefined;
      if (typeof attempts === 'number') meter.attempts(attempts);
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
      async (request: FastifyRequest<{ Body: GatewayBody }>, reply) => {
        const { body, principal } = request;
        const stream = body.stream === true;
        const meter = new UsageMeter(usage, request, { endpoint: 'chat', requested: body.model, stream });
        const abort = callAbort(reply, completionTimeoutMs);
        try {
          assertModelAllowed(principal, body.model);
          const call = callRequest(request, chatExpectation, meter, abort);
          const context = callContext(abort);
          if (!stream) {
            const outcome = await runner.run(call, (loaded, signal) =>
              completeChat(loaded, body, { ...context, signal }),
            );
            answeredBy(reply, meter, outcome);
            meter.succeed(outcome.value.usage);
            return reply.type(outcome.value.contentType).send(outcome.value.body);
          }
          // The first chunk before any byte: a target that fails at once gets an ordinary error status
          // (and a route falls back to its next target).
          const outcome = await runner.stream(call, (loaded, signal) =>
            streamChat(loaded, body, { ...context, signal }),
          );
          const target = answeredBy(reply, meter, outcome);
          const clientAsked = (body.stream_options as { include_usage?: boolean } | null | undefined)?.include_usage;
          await writeChatStream(request, reply, {
            ...outcome.value,
            scanner: new OpenAiStreamScanner({
              stripUsage: streamAddsUsage(outcome.loaded, clientAsked === true, askStreamUsage),
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
      async (request: FastifyRequest<{ Body: GatewayBody }>, reply) => {
        const { body, principal } = request;
        const meter = new UsageMeter(usage, request, { endpoint: 'embeddings', requested: body.model, stream: false });
        const abort = callAbort(reply, completionTimeoutMs);
        try {
          assertModelAllowed(principal, body.model);
          const context = callContext(abort);
          const outcome = await runner.run(callRequest(request, embeddingExpectation, meter, abort), (loaded, signal) =>
            embed(loaded, body, { ...context, signal }),
          );
          answeredBy(reply, meter, outcome);
          meter.succeed(outcome.value.usage);
          return reply.type(outcome.value.contentType).send(outcome.value.body);
        } catch (error) {
          return failed(reply, meter, abort, error);
        } finally {
          abort.dispose();
        }
      },
    );

    app.get('/v1/models', { schema: { tags, summary: 'List the models (OpenAI-compatible)' } }, async (request) => {
      const { allowedModels, projectId } = request.principal;
      const [listed, routes] = await Promise.all([
        listModels(models, projectId),
        options.routes?.list?.(projectId) ?? Promise.resolve([]),
      ]);
      const data = [...routes.map(routeObject), ...listed.map(modelObject)];
      // A key limited to some models and routes sees only those.
      return {
        object: 'list' as const,
        data: allowedModels === undefined ? data : data.filter((item) => allowedModels.includes(item.id)),
      };
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
          const route = await options.routes?.current(request.principal.projectId, ref);
          if (route !== undefined) {
            assertModelAllowed(request.principal, route.name);
            return routeObject(route);
          }
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

type GatewayBody = Record<string, unknown> & { model: string };

/** What conditional routes may test: `metadata.*`, `headers.*`, `key.id` / `key.tags`, `params.*` (the body). */
function routeContext(request: FastifyRequest<{ Body: GatewayBody }>): RouteContext {
  const { body, principal } = request;
  const metadata = body.metadata;
  return {
    ...(typeof metadata === 'object' && metadata !== null ? { metadata: metadata as Record<string, unknown> } : {}),
    headers: request.headers,
    ...(principal.keyId === null ? {} : { key: { id: principal.keyId, tags: principal.tags } }),
    params: body,
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
