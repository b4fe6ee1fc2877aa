import {
  assertModelAllowed,
  EnsembleError,
  type KindExpectation,
  type ModelDescriptor,
  type ModelRepository,
  type ModelRuntimeManager,
  type RouteLookup,
  type TextEmbedder,
  type UsageRecorder,
  type VectorStore,
  validationError,
} from '@ensemble/core';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { buildConnector } from 'undici';
import { modelParamsSchema, modelRefOf, nameDepths } from '../models/model-name-params.ts';
import { pipelineChat, pipelineModelPrefix } from '../pipelines/pipeline-chat.ts';
import type { PipelineService } from '../pipelines/pipeline-service.ts';
import { cachedAnswer, cachedStream } from './cached-answers.ts';
import { CallRunner } from './call-runner.ts';
import { chatCompletionEnvelopeSchema, embeddingsEnvelopeSchema } from './chat-completion-envelope.ts';
import { unixSeconds } from './chat-completion-json.ts';
import { completeChat, streamAddsUsage, streamChat } from './chat-target.ts';
import { embed } from './embeddings-target.ts';
import { fastBodyValidator, isPlainChatEnvelope, isPlainEmbeddingsEnvelope } from './envelope-fast-check.ts';
import { type GatewayBody, GatewayCall, type GatewayCallDependencies } from './gateway-call.ts';
import { formatGatewayError } from './gateway-error-body.ts';
import { GatewayMetrics } from './gateway-metrics.ts';
import { modelObject, routeObject } from './model-object.ts';
import { ModelTargets } from './model-targets.ts';
import { OpenAiStreamScanner } from './openai-stream-scanner.ts';
import { ProjectBreakers } from './project-breakers.ts';
import { ResponseCache } from './response-cache.ts';
import { type ResponseHead, responseFromCompletion, responseItemId } from './response-object.ts';
import { type ResponsesRequest, responsesRequestSchema } from './responses-request.ts';
import { ResponsesStreamTranslator } from './responses-stream-translator.ts';
import { chatBodyFor, inResponsesTerms, responsesToChat } from './responses-to-chat.ts';
import { RouteTargets } from './route-targets.ts';
import { assembleCompletion, completionAsStream, SemanticAnswers } from './semantic-answers.ts';
import { type SemanticStep, semanticCacheStep } from './semantic-cache-step.ts';
import { systemClock } from './system-clock.ts';
import { createUpstreamDispatcher } from './upstream-dispatcher.ts';
import type { UsageSink } from './usage-meter.ts';
import { writeChatStream } from './write-chat-stream.ts';
import { writeResponsesStream } from './write-responses-stream.ts';

export interface OpenAiGatewayModuleOptions {
  runtimes: ModelRuntimeManager;
  /**
   * Connects to upstreams (the pass-through): the SSRF guard's connector refuses internal addresses
   * at connect time (OutboundGuard.connector); omitted, any address.
   */
  upstreamConnector?: buildConnector.connector;
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
  /**
   * The exact-match response cache (per process, per project and model version): how long an answer
   * is reused and the most bytes held. `ttlMs: 0` turns it off. Default 60 s and 64 MiB.
   */
  cache?: { ttlMs?: number; maxBytes?: number };
  /** Pipelines served as models: `model: "pipeline/<name>"`; none: such names are unknown models. */
  pipelines?: PipelineService;
  /**
   * The semantic cache routes opt into (`policy.semanticCache`): the embedded vector index and the
   * embedder of prompts. None: routes' `semanticCache` is ignored.
   */
  semanticCache?: { store: VectorStore; embedder: TextEmbedder };
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
 * every model and route in the registry. A name is a route first (run on core's router), else a
 * model. Models whose upstream speaks OpenAI's wire format get the request forwarded as it came and
 * the upstream's bytes back (a pass-through, no LangChain); the others go through their LangChain
 * runtimes and answer the same format. Answers may come from the exact-match cache. Errors come in
 * OpenAI's exact shape, so the official SDKs raise their own error classes; every call leaves one
 * usage event and its metrics.
 */
export function openAiGatewayModule(options: OpenAiGatewayModuleOptions): FastifyPluginAsyncZod {
  const { runtimes, models, usage } = options;
  const cacheTtlMs = options.cache?.ttlMs ?? 60_000;
  return async (app) => {
    const dispatcher = createUpstreamDispatcher(options.upstreamConnector);
    app.addHook('onClose', async () => {
      await dispatcher.close();
    });
    const breakers = new ProjectBreakers(systemClock, (projectId, target, from, to) =>
      app.log.warn({ projectId, target, from, to }, `circuit breaker ${to}`),
    );
    const cache =
      cacheTtlMs > 0
        ? new ResponseCache({ ttlMs: cacheTtlMs, maxBytes: options.cache?.maxBytes ?? 64 * 1024 ** 2 })
        : undefined;
    const metrics =
      app.metricsRegistry === undefined ? undefined : new GatewayMetrics(app.metricsRegistry, { breakers, cache });
    const sink: UsageSink | undefined =
      usage === undefined && metrics === undefined
        ? undefined
        : (event, cacheStatus) => {
            metrics?.observe(event, cacheStatus);
            usage?.record(event);
          };
    const dependencies: GatewayCallDependencies = {
      runner: new CallRunner({
        targets: new ModelTargets(runtimes, { ttlMs: options.modelCacheTtlMs ?? 2_000 }),
        routes: options.routes,
        routeTargets: options.routes === undefined ? undefined : new RouteTargets(options.routes),
        breakers,
        clock: systemClock,
        ...(metrics === undefined ? {} : { onTrace: (trace) => metrics.observeTrace(trace) }),
      }),
      dispatcher,
      askStreamUsage: options.askStreamUsage ?? true,
      cache,
      sink,
      completionTimeoutMs: options.completionTimeoutMs ?? 10 * 60_000,
    };
    app.registerErrorFormatter('/v1', formatGatewayError);
    const semantic =
      options.semanticCache === undefined || options.routes === undefined
        ? undefined
        : { answers: new SemanticAnswers(options.semanticCache), routes: options.routes };

    app.post(
      '/v1/chat/completions',
      {
        // A stream may run for minutes: hold scale-in protection. The call keeps its own deadline
        // (completionTimeoutMs, and each upstream's timeout), cheaper than Fastify's per-request one.
        config: { scaleInProtection: true, ownDeadline: true },
        validatorCompiler: fastBodyValidator(isPlainChatEnvelope),
        schema: {
          tags,
          summary: 'Create a chat completion (OpenAI-compatible)',
          description:
            '`model` is a registry name or ref, or a route. With `stream: true` the answer is `text/event-stream` of ' +
            '`chat.completion.chunk`s ending in `data: [DONE]`; a failure mid-stream sends an error chunk instead. ' +
            'Fields not listed here are passed to OpenAI-wire upstreams as sent. `x-ensemble-cache: no-store` ' +
            'skips the response cache.',
          body: chatCompletionEnvelopeSchema,
        },
      },
      async (request: FastifyRequest<{ Body: GatewayBody }>, reply) => {
        const { body } = request;
        if (options.pipelines !== undefined && (body.model as string).startsWith(pipelineModelPrefix)) {
          return pipelineChat(options.pipelines, request, reply);
        }
        const call = new GatewayCall(dependencies, request, reply, 'chat', chatExpectation);
        try {
          const step: SemanticStep | undefined =
            semantic === undefined
              ? undefined
              : await semanticCacheStep(semantic.answers, semantic.routes, request, reply, call);
          if (step?.answered === true) return reply;
          if (body.stream !== true) {
            const outcome = await call.run((loaded, signal) =>
              cachedAnswer(
                call.cacheUse,
                () => call.cacheKey(loaded),
                () => completeChat(loaded, body, call.context(signal)),
              ),
            );
            call.answered(outcome);
            call.meter.succeed(outcome.value.usage);
            if (step?.answered === false) step.keep?.(outcome.value, outcome.loaded.descriptor);
            return reply.type(outcome.value.contentType).send(outcome.value.body);
          }
          // The first chunk before any byte: a target that fails at once gets an ordinary error status
          // (and a route falls back to its next target).
          const keep = step?.answered === false ? step.keep : undefined;
          const outcome = await call.stream((loaded, signal) =>
            cachedStream(
              call.cacheUse,
              () => call.cacheKey(loaded),
              async () => {
                const stream = await streamChat(loaded, body, call.context(signal));
                // A semantic cache miss keeps the streamed answer once it ended cleanly.
                return keep === undefined
                  ? stream
                  : assembleCompletion(stream, (json) => keep({ body: Buffer.from(json) }, loaded.descriptor));
              },
            ),
          );
          const target = call.answered(outcome);
          const clientAsked = (body.stream_options as { include_usage?: boolean } | null | undefined)?.include_usage;
          await writeChatStream(request, reply, {
            ...outcome.value,
            scanner: new OpenAiStreamScanner({
              stripUsage: streamAddsUsage(outcome.loaded, clientAsked === true, dependencies.askStreamUsage),
            }),
            meter: call.meter,
            target,
            clientGone: call.clientGone,
          });
          return reply;
        } catch (error) {
          return call.failed(error);
        } finally {
          call.dispose();
        }
      },
    );

    app.post(
      '/v1/responses',
      {
        config: { scaleInProtection: true, ownDeadline: true },
        schema: {
          tags,
          summary: 'Create a model response (OpenAI Responses API, run as a chat completion)',
          description:
            'Translated to a chat completion and run on the chat path (routes, cache, limits, ledger with ' +
            '`endpoint: responses`), then answered as a `response` object. With `stream: true` the answer is ' +
            "`text/event-stream` of the Responses API's events ending in `response.completed`; a failure mid-stream " +
            'sends `response.failed` and `error`. Ensemble keeps no responses: `previous_response_id`, ' +
            '`conversation`, `background` and built-in tools are refused (send the whole conversation in `input`).',
          body: responsesRequestSchema,
        },
      },
      async (request, reply) => {
        const asked = request.body as ResponsesRequest;
        if (asked.model.startsWith(pipelineModelPrefix)) {
          throw validationError('body.model', 'pipelines are served on /v1/chat/completions, not on /v1/responses');
        }
        const chat = responsesToChat(asked);
        // From here the call is a chat completion: conditional routes, the cache key and the ledger read the chat body.
        const chatRequest = request as unknown as FastifyRequest<{ Body: GatewayBody }>;
        chatRequest.body = chat;
        const head: ResponseHead = {
          id: responseItemId('resp'),
          createdAt: unixSeconds(),
          model: asked.model,
          request: asked,
        };
        const call = new GatewayCall(dependencies, chatRequest, reply, 'responses', chatExpectation);
        try {
          const step: SemanticStep | undefined =
            semantic === undefined
              ? undefined
              : await semanticCacheStep(semantic.answers, semantic.routes, chatRequest, reply, call, (completion) => {
                  if (chat.stream === true) {
                    reply
                      .header('cache-control', 'no-cache')
                      .type('text/event-stream')
                      .send(cachedEvents(head, completion));
                  } else reply.send(responseFromCompletion(head, Buffer.from(completion)));
                });
          if (step?.answered === true) return reply;
          const keep = step?.answered === false ? step.keep : undefined;
          if (chat.stream !== true) {
            const outcome = await call.run((loaded, signal) =>
              cachedAnswer(
                call.cacheUse,
                () => call.cacheKey(loaded),
                () => completeChat(loaded, chatBodyFor(chat, loaded.descriptor.provider), call.context(signal)),
              ),
            );
            call.answered(outcome);
            const answer = responseFromCompletion(head, outcome.value.body);
            call.meter.succeed(outcome.value.usage);
            keep?.(outcome.value, outcome.loaded.descriptor);
            return reply.send(answer);
          }
          const outcome = await call.stream((loaded, signal) =>
            cachedStream(
              call.cacheUse,
              () => call.cacheKey(loaded),
              async () => {
                const stream = await streamChat(
                  loaded,
                  chatBodyFor(chat, loaded.descriptor.provider),
                  call.context(signal),
                );
                // A semantic cache miss keeps the streamed answer once it ended cleanly.
                return keep === undefined
                  ? stream
                  : assembleCompletion(stream, (json) => keep({ body: Buffer.from(json) }, loaded.descriptor));
              },
            ),
          );
          const target = call.answered(outcome);
          await writeResponsesStream(chatRequest, reply, {
            ...outcome.value,
            translator: new ResponsesStreamTranslator(head),
            meter: call.meter,
            target,
            clientGone: call.clientGone,
          });
          return reply;
        } catch (error) {
          return call.failed(inResponsesTerms(error));
        } finally {
          call.dispose();
        }
      },
    );

    app.post(
      '/v1/embeddings',
      {
        config: { ownDeadline: true },
        validatorCompiler: fastBodyValidator(isPlainEmbeddingsEnvelope),
        schema: {
          tags,
          summary: 'Create embeddings (OpenAI-compatible)',
          description:
            '`encoding_format: "base64"` answers little-endian float32 vectors in base64, as OpenAI does. ' +
            '`x-ensemble-cache: no-store` skips the response cache.',
          body: embeddingsEnvelopeSchema,
        },
      },
      async (request: FastifyRequest<{ Body: GatewayBody }>, reply) => {
        const { body } = request;
        const call = new GatewayCall(dependencies, request, reply, 'embeddings', embeddingExpectation);
        try {
          const outcome = await call.run((loaded, signal) =>
            cachedAnswer(
              call.cacheUse,
              () => call.cacheKey(loaded),
              () => embed(loaded, body, call.context(signal)),
            ),
          );
          call.answered(outcome);
          call.meter.succeed(outcome.value.usage);
          return reply.type(outcome.value.contentType).send(outcome.value.body);
        } catch (error) {
          return call.failed(error);
        } finally {
          call.dispose();
        }
      },
    );

    app.get(
      '/v1/models',
      { schema: { tags, summary: 'List the models and routes (OpenAI-compatible)' } },
      async (request) => {
        const { allowedModels, projectId } = request.principal;
        const [listed, routes, pipelines] = await Promise.all([
          listModels(models, projectId),
          options.routes?.list?.(projectId) ?? Promise.resolve([]),
          options.pipelines?.list(projectId) ?? Promise.resolve([]),
        ]);
        const data = [
          ...routes.map(routeObject),
          ...listed.map(modelObject),
          ...pipelines.map((pipeline) => ({
            id: `${pipelineModelPrefix}${pipeline.name}`,
            object: 'model' as const,
            created: Math.floor(Date.parse(pipeline.createdAt) / 1000),
            owned_by: 'ensemble-pipeline',
          })),
        ];
        // A key limited to some models and routes sees only those.
        return {
          object: 'list' as const,
          data: allowedModels === undefined ? data : data.filter((item) => allowedModels.includes(item.id)),
        };
      },
    );

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

/** A chat completion kept by the semantic cache, as the whole Responses event stream. */
function cachedEvents(head: ResponseHead, completion: string): string {
  const translator = new ResponsesStreamTranslator(head);
  return (
    translator.start() + translator.push(completionAsStream(completion, true)) + translator.end() + translator.finish()
  );
}
