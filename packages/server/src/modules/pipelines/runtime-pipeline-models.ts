import {
  EnsembleError,
  type KindExpectation,
  type LoadedModel,
  type ModelCallUsage,
  type ModelRepository,
  type ModelRuntimeManager,
  type PipelineChatCall,
  type PipelineModels,
  type Route,
  type RouteLookup,
  silentLogger,
  type UsageRecorder,
} from '@ensemble/core';
import type { ChatMessageChunk } from '../model-runtime/chat-call.ts';
import { chatCallOptions } from '../model-runtime/chat-call.ts';
import { CallRunner } from '../openai-gateway/call-runner.ts';
import { ModelTargets } from '../openai-gateway/model-targets.ts';
import { ProjectBreakers } from '../openai-gateway/project-breakers.ts';
import { RouteTargets } from '../openai-gateway/route-targets.ts';
import { systemClock } from '../openai-gateway/system-clock.ts';

const chat: KindExpectation = { kinds: ['chat'], as: 'a chat model', field: 'model' };
const embedding: KindExpectation = { kinds: ['embedding'], as: 'an embedding model', field: 'model' };
const classifier: KindExpectation = { kinds: ['classifier'], as: 'a classifier model', field: 'model' };

/**
 * Pipelines' model calls on the registry's runtimes (the LangChain chat models, embeddings and
 * classifiers `/v1` and `/api/models/{ref}/invoke` use), names resolved through the gateway's 2 s
 * cache. Chat calls stream when the run wants tokens. A `model` step may name a route: as in `/v1`, a
 * bare name is looked up as a route first, and the route's policy (fallbacks, retries, splits, circuit
 * breakers) picks the model on the gateway's `CallRunner`; the step's trace records the model that
 * answered. Each call leaves one usage event in the ledger (request id `<run>:<step path>`), as a
 * `/v1` call does.
 */
export class RuntimePipelineModels implements PipelineModels {
  readonly #targets: ModelTargets;
  readonly #models: ModelRepository;
  readonly #usage: UsageRecorder | undefined;
  readonly #routes: Pick<RouteLookup, 'current'> | undefined;
  readonly #runner: CallRunner;

  constructor(
    runtimes: ModelRuntimeManager,
    models: ModelRepository,
    usage?: UsageRecorder,
    routes?: Pick<RouteLookup, 'current'>,
  ) {
    this.#targets = new ModelTargets(runtimes);
    this.#models = models;
    this.#usage = usage;
    this.#routes = routes;
    this.#runner = new CallRunner({
      targets: this.#targets,
      routes,
      routeTargets: routes === undefined ? undefined : new RouteTargets(routes),
      breakers: new ProjectBreakers(systemClock),
      clock: systemClock,
    });
  }

  async chat(call: PipelineChatCall): Promise<{ text: string; usage: ModelCallUsage }> {
    const route = await this.#route(call.projectId, call.model);
    const routed = route === undefined ? undefined : { route, signal: call.signal };
    return this.#metered(call.projectId, call.model, call.requestId, 'chat', chat, routed, async (loaded, signal) => {
      const model = loaded.runtime.chat;
      if (model === undefined)
        throw new EnsembleError('internal_error', `model '${loaded.descriptor.name}' has no chat runtime`);
      // A route's attempt has a signal of its own (its per-attempt timeout).
      const options = { ...chatCallOptions(call.params, signal ?? call.signal) };
      const input = call.messages.map((message) => ({ role: message.role, content: message.content }));
      let answer: ChatMessageChunk | undefined;
      if (call.onToken === undefined) {
        answer = await model.invoke(input, options);
      } else {
        for await (const chunk of await model.stream(input, options)) {
          if (chunk.text.length > 0) call.onToken(chunk.text);
          answer = answer === undefined ? chunk : answer.concat(chunk);
        }
      }
      const text = answer?.text ?? '';
      return {
        value: text,
        inputTokens: answer?.usage_metadata?.input_tokens ?? 0,
        outputTokens: answer?.usage_metadata?.output_tokens ?? 0,
      };
    }).then(({ value, usage }) => ({ text: value, usage }));
  }

  async embed(call: { projectId: string; model: string; texts: string[]; signal: AbortSignal; requestId: string }) {
    return this.#metered(
      call.projectId,
      call.model,
      call.requestId,
      'embeddings',
      embedding,
      undefined,
      async (loaded) => {
        const embeddings = loaded.runtime.embeddings;
        if (embeddings === undefined)
          throw new EnsembleError('internal_error', `model '${loaded.descriptor.name}' has no embeddings runtime`);
        call.signal.throwIfAborted();
        const vectors = await embeddings.embedDocuments(call.texts);
        const tokens = call.texts.reduce((sum, text) => sum + Math.ceil(text.length / 4), 0);
        return { value: vectors, inputTokens: tokens, outputTokens: 0 };
      },
    ).then(({ value, usage }) => ({ vectors: value, usage }));
  }

  async classify(call: { projectId: string; model: string; text: string; signal: AbortSignal; requestId: string }) {
    return this.#metered(
      call.projectId,
      call.model,
      call.requestId,
      'invoke',
      classifier,
      undefined,
      async (loaded) => {
        const model = loaded.runtime.classifier;
        if (model === undefined)
          throw new EnsembleError('internal_error', `model '${loaded.descriptor.name}' has no classifier runtime`);
        const [labels] = await model.invoke([call.text], { signal: call.signal });
        return { value: labels ?? [], inputTokens: 0, outputTokens: 0 };
      },
    ).then(({ value, usage }) => ({ labels: value, usage }));
  }

  async kindOf(projectId: string, ref: string): Promise<string | undefined> {
    if ((await this.#route(projectId, ref)) !== undefined) return 'route';
    try {
      const descriptor = await this.#models.resolve(projectId, ref);
      return descriptor.status === 'retired' ? undefined : descriptor.kind;
    } catch (error) {
      if (EnsembleError.isInstance(error) && (error.code === 'not_found' || error.code === 'validation_failed'))
        return undefined;
      throw error;
    }
  }

  async #metered<T>(
    projectId: string,
    ref: string,
    requestId: string,
    endpoint: 'chat' | 'embeddings' | 'invoke',
    expect: KindExpectation,
    routed: { route: Route; signal: AbortSignal } | undefined,
    work: (
      loaded: LoadedModel,
      signal?: AbortSignal,
    ) => Promise<{ value: T; inputTokens: number; outputTokens: number }>,
  ): Promise<{ value: T; usage: ModelCallUsage }> {
    const startedAt = Date.now();
    const started = performance.now();
    let loaded: LoadedModel | undefined;
    try {
      let answer: { value: T; inputTokens: number; outputTokens: number };
      if (routed === undefined) {
        loaded = await this.#targets.resolve(projectId, ref, expect);
        answer = await work(loaded);
      } else {
        const { route, signal } = routed;
        const outcome = await this.#runner.run(
          {
            principal: { projectId },
            requested: route.name,
            route,
            expectation: expect,
            context: () => ({}),
            signal,
            log: silentLogger,
            onRoute: () => {},
            onTarget: (target) => {
              loaded = target;
            },
          },
          (target, signal) => work(target, signal),
        );
        loaded = outcome.loaded;
        answer = outcome.value;
      }
      const { value, inputTokens, outputTokens } = answer;
      const pricing = loaded.descriptor.pricing;
      const usage: ModelCallUsage = {
        model: `${loaded.descriptor.name}@${loaded.descriptor.version}`,
        inputTokens,
        outputTokens,
        costUsd:
          pricing === undefined
            ? null
            : (inputTokens * pricing.inputPerMillionTokens + outputTokens * pricing.outputPerMillionTokens) / 1e6,
      };
      this.#record(projectId, ref, requestId, endpoint, loaded, startedAt, started, usage, undefined, routed?.route);
      return { value, usage };
    } catch (error) {
      this.#record(projectId, ref, requestId, endpoint, loaded, startedAt, started, undefined, error, routed?.route);
      throw error;
    }
  }

  /** The current version of the route a bare name names, if it is one (routes first, as in `/v1`). */
  async #route(projectId: string, ref: string): Promise<Route | undefined> {
    if (this.#routes === undefined || /[@:]/.test(ref)) return undefined;
    return this.#routes.current(projectId, ref);
  }

  #record(
    projectId: string,
    requested: string,
    requestId: string,
    endpoint: 'chat' | 'embeddings' | 'invoke',
    loaded: LoadedModel | undefined,
    startedAt: number,
    started: number,
    usage: ModelCallUsage | undefined,
    error: unknown,
    route: Route | undefined,
  ): void {
    if (this.#usage === undefined) return;
    const failure = EnsembleError.isInstance(error) ? error : undefined;
    this.#usage.record({
      requestId,
      ts: new Date(startedAt).toISOString(),
      projectId,
      keyId: null,
      endpoint,
      requested,
      route: route?.name ?? null,
      target: loaded === undefined ? null : `${loaded.descriptor.name}@${loaded.descriptor.version}`,
      provider: loaded?.descriptor.provider ?? null,
      inputTokens: usage?.inputTokens ?? 0,
      outputTokens: usage?.outputTokens ?? 0,
      costUsd: usage?.costUsd ?? null,
      latencyMs: Math.round((performance.now() - started) * 100) / 100,
      timeToFirstTokenMs: null,
      stream: false,
      status: error === undefined ? 200 : (failure?.httpStatus ?? 500),
      errorCode: error === undefined ? null : (failure?.code ?? 'internal_error'),
      cacheHit: false,
      attempts: 1,
    });
  }
}
