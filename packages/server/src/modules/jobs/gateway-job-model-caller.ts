import {
  EnsembleError,
  type JobModelAnswer,
  type JobModelCall,
  type JobModelCaller,
  type KindExpectation,
  type LoadedModel,
  type Logger,
  type ModelRuntimeManager,
  type Route,
  type RouteContext,
  type RouteRepository,
  type RouteTrace,
  silentLogger,
  type UsageRecorder,
} from '@ensemble/core';
import type { Agent, buildConnector } from 'undici';
import { CallRunner } from '../openai-gateway/call-runner.ts';
import { completeChat } from '../openai-gateway/chat-target.ts';
import { embed } from '../openai-gateway/embeddings-target.ts';
import { ModelTargets } from '../openai-gateway/model-targets.ts';
import { ProjectBreakers } from '../openai-gateway/project-breakers.ts';
import { RouteTargets } from '../openai-gateway/route-targets.ts';
import { systemClock } from '../openai-gateway/system-clock.ts';
import { createUpstreamDispatcher } from '../openai-gateway/upstream-dispatcher.ts';
import { usageAttempts } from '../openai-gateway/usage-meter.ts';

const expectations: Record<JobModelCall['operation'], KindExpectation> = {
  chat: { kinds: ['chat'], as: 'a chat model', field: 'model' },
  embeddings: { kinds: ['embedding'], as: 'an embedding model', field: 'model' },
};

/** Route versions are immutable: remembered once read, up to this many (then forgotten all at once). */
const maxRememberedRoutes = 1_000;

export interface GatewayJobModelCallerOptions {
  /** With it, every call leaves one usage event (endpoint `chat`/`embeddings`, the item as request id). */
  usage?: UsageRecorder | undefined;
  /** Where the route versions jobs are pinned to are read (and the routes they nest, at their current version). */
  routes?: Pick<RouteRepository, 'getVersion' | 'current'> | undefined;
  logger?: Logger;
  /** The pass-through's connections: the SSRF guard's connector (OutboundGuard.connector); omitted, any address. */
  upstreamConnector?: buildConnector.connector | undefined;
}

/**
 * Job items called the way `/v1` calls models: a pass-through over one keep-alive undici pool for
 * OpenAI-wire upstreams, LangChain for the rest, with the same checks and the same errors (a
 * refused request is a non-retryable `upstream_bad_request`, an outage a retryable `upstream_error`).
 * An item of a job pinned to a route runs through that route version's policy on the gateway's
 * `CallRunner` (retries, fallbacks, splits, conditions on the item's `metadata` and parameters,
 * circuit breakers per project in this process). Names resolve through a 2 s cache, so a batch does
 * not read the registry per item.
 */
export class GatewayJobModelCaller implements JobModelCaller {
  readonly #targets: ModelTargets;
  readonly #dispatcher: Agent;
  readonly #usage: UsageRecorder | undefined;
  readonly #routes: GatewayJobModelCallerOptions['routes'];
  readonly #runner: CallRunner;
  readonly #logger: Logger;
  readonly #versions = new Map<string, Promise<Route>>();

  constructor(runtimes: ModelRuntimeManager, options: GatewayJobModelCallerOptions = {}) {
    this.#targets = new ModelTargets(runtimes);
    this.#dispatcher = createUpstreamDispatcher(options.upstreamConnector);
    this.#usage = options.usage;
    this.#routes = options.routes;
    this.#logger = options.logger ?? silentLogger;
    this.#runner = new CallRunner({
      targets: this.#targets,
      routes: options.routes,
      routeTargets: options.routes === undefined ? undefined : new RouteTargets(options.routes),
      breakers: new ProjectBreakers(systemClock),
      clock: systemClock,
    });
  }

  async call(call: JobModelCall): Promise<JobModelAnswer> {
    const startedAt = Date.now();
    const started = performance.now();
    let loaded: LoadedModel | undefined;
    let attempts = 1;
    let trace: RouteTrace | undefined;
    try {
      let answer: JobModelAnswer;
      if (call.route === undefined) {
        loaded = await this.#targets.resolve(call.projectId, call.model, expectations[call.operation]);
        answer = await this.#call(loaded, call, call.signal);
      } else {
        const route = await this.#route(call.projectId, call.route.name, call.route.version);
        const outcome = await this.#runner.run(
          {
            principal: { projectId: call.projectId },
            requested: route.name,
            route,
            expectation: expectations[call.operation],
            context: () => routeContext(call),
            signal: call.signal,
            log: this.#logger,
            onRoute: () => {},
            onTarget: (target) => {
              loaded = target;
            },
          },
          (target, signal) => this.#call(target, call, signal),
        );
        loaded = outcome.loaded;
        attempts = outcome.attempts;
        trace = outcome.trace;
        answer = outcome.value;
      }
      this.#record(call, loaded, startedAt, started, answer, undefined, attempts, trace);
      return answer;
    } catch (error) {
      const details = EnsembleError.isInstance(error) ? error.details : undefined;
      const tried = typeof details?.attempts === 'number' ? details.attempts : attempts;
      const failedTrace = Array.isArray(details?.trace) ? (details.trace as RouteTrace) : undefined;
      this.#record(call, loaded, startedAt, started, undefined, error, tried, failedTrace);
      throw error;
    }
  }

  /** The pinned route version; a route deleted since is a `not_found` (the item fails, not retried). */
  #route(projectId: string, name: string, version: number): Promise<Route> {
    const routes = this.#routes;
    if (routes === undefined) {
      return Promise.reject(
        new EnsembleError('internal_error', `this worker cannot run routes (job item for route '${name}')`),
      );
    }
    const key = `${projectId}\u0000${name}@${version}`;
    let known = this.#versions.get(key);
    if (known === undefined) {
      if (this.#versions.size >= maxRememberedRoutes) this.#versions.clear();
      known = routes
        .getVersion(projectId, name, version)
        .then((stored) => Object.freeze({ name, version, policy: stored.policy, description: stored.description }));
      // A failed read is not remembered: the next item asks again.
      known.catch(() => this.#versions.delete(key));
      this.#versions.set(key, known);
    }
    return known;
  }

  async #call(loaded: LoadedModel, call: JobModelCall, signal: AbortSignal): Promise<JobModelAnswer> {
    const context = { dispatcher: this.#dispatcher, signal, askStreamUsage: false };
    // The request as /v1 would have it; the pass-through swaps in the upstream's own model id.
    const body = { ...call.body, model: `${loaded.descriptor.name}@${loaded.descriptor.version}` };
    const answer =
      call.operation === 'chat' ? await completeChat(loaded, body, context) : await embed(loaded, body, context);
    let output: unknown;
    try {
      output = JSON.parse(answer.body.toString('utf8'));
    } catch (error) {
      throw new EnsembleError('upstream_error', `${loaded.descriptor.name} answered something that is not JSON`, {
        cause: error,
      });
    }
    if (typeof output !== 'object' || output === null || Array.isArray(output)) {
      throw new EnsembleError('upstream_error', `${loaded.descriptor.name} answered JSON that is not an object`);
    }
    const { inputTokens, outputTokens } = answer.usage;
    const pricing = loaded.descriptor.pricing;
    return {
      output: output as Record<string, unknown>,
      inputTokens,
      outputTokens,
      costUsd:
        pricing === undefined
          ? null
          : (inputTokens * pricing.inputPerMillionTokens + outputTokens * pricing.outputPerMillionTokens) / 1e6,
    };
  }

  #record(
    call: JobModelCall,
    loaded: LoadedModel | undefined,
    startedAt: number,
    started: number,
    answer: JobModelAnswer | undefined,
    error: unknown,
    attempts: number,
    trace: RouteTrace | undefined,
  ): void {
    if (this.#usage === undefined || call.usage === undefined) return;
    const failure = error === undefined ? undefined : EnsembleError.isInstance(error) ? error : undefined;
    this.#usage.record({
      requestId: call.usage.requestId,
      ts: new Date(startedAt).toISOString(),
      projectId: call.projectId,
      keyId: call.usage.keyId,
      endpoint: call.operation,
      requested: call.model,
      route: call.route?.name ?? null,
      target: loaded === undefined ? null : `${loaded.descriptor.name}@${loaded.descriptor.version}`,
      provider: loaded?.descriptor.provider ?? null,
      inputTokens: answer?.inputTokens ?? 0,
      outputTokens: answer?.outputTokens ?? 0,
      costUsd: answer?.costUsd ?? null,
      latencyMs: Math.round((performance.now() - started) * 100) / 100,
      timeToFirstTokenMs: null,
      stream: false,
      status: error === undefined ? 200 : (failure?.httpStatus ?? 500),
      errorCode: error === undefined ? null : (failure?.code ?? 'internal_error'),
      cacheHit: false,
      attempts,
      ...(trace === undefined ? {} : { trace: usageAttempts(trace) }),
    });
  }

  /** Closes the upstream connections. */
  async close(): Promise<void> {
    await this.#dispatcher.close();
  }
}

/** What a route's conditions see for an item: its `metadata` and its parameters (the request body). */
function routeContext(call: JobModelCall): RouteContext {
  const metadata = call.body.metadata;
  return {
    ...(typeof metadata === 'object' && metadata !== null ? { metadata: metadata as Record<string, unknown> } : {}),
    ...(call.usage?.keyId ? { key: { id: call.usage.keyId, tags: [] } } : {}),
    params: call.body,
  };
}
