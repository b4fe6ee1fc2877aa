import {
  assertModelAllowed,
  EnsembleError,
  type KindExpectation,
  type LoadedModel,
  type RouteContext,
  type RouteTrace,
  validationError,
} from '@ensemble/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';
import { cacheKey, requestFingerprint } from './cache-key.ts';
import type { CacheUse } from './cached-answers.ts';
import { type CallAbort, callAbort } from './call-abort.ts';
import type { CallOutcome, CallRequest, CallRunner, OpenedStream, TargetAttempt } from './call-runner.ts';
import type { TargetCallContext } from './chat-target.ts';
import type { ResponseCache } from './response-cache.ts';
import { targetLabel } from './target-label.ts';
import { UpstreamRefusal } from './upstream-errors.ts';
import { type UsageEndpoint, UsageMeter, type UsageSink } from './usage-meter.ts';

/** What every call shares: built once by the module. */
export interface GatewayCallDependencies {
  runner: CallRunner;
  dispatcher: Dispatcher;
  askStreamUsage: boolean;
  cache: ResponseCache | undefined;
  sink: UsageSink | undefined;
  completionTimeoutMs: number;
}

export type GatewayBody = Record<string, unknown> & { model: string };

/** The header a client opts out of the response cache with, and the one that says what the cache did. */
export const cacheControlHeader = 'x-ensemble-cache';
export const cacheStatusHeader = 'x-ensemble-cache-status';

/**
 * One `/v1` call from arrival to its last byte: the usage meter, the abort (client gone, too long),
 * the cache, and the answer's headers. The route handlers compose it with the target calls.
 */
export class GatewayCall {
  readonly meter: UsageMeter;
  readonly cacheUse: CacheUse | undefined;
  readonly #dependencies: GatewayCallDependencies;
  readonly #request: FastifyRequest<{ Body: GatewayBody }>;
  readonly #reply: FastifyReply;
  readonly #endpoint: UsageEndpoint;
  readonly #expectation: KindExpectation;
  readonly #abort: CallAbort;
  readonly #cacheRefusal: EnsembleError | undefined;
  #fingerprint: string | undefined;

  constructor(
    dependencies: GatewayCallDependencies,
    request: FastifyRequest<{ Body: GatewayBody }>,
    reply: FastifyReply,
    endpoint: UsageEndpoint,
    expectation: KindExpectation,
  ) {
    this.#dependencies = dependencies;
    this.#request = request;
    this.#reply = reply;
    this.#endpoint = endpoint;
    this.#expectation = expectation;
    const stream = request.body.stream === true;
    this.meter = new UsageMeter(dependencies.sink, request, { endpoint, requested: request.body.model, stream });
    this.#abort = callAbort(reply, dependencies.completionTimeoutMs);
    const control = request.headers[cacheControlHeader];
    if (control !== undefined && control !== 'no-store') {
      this.#cacheRefusal = validationError(`headers.${cacheControlHeader}`, "must be 'no-store' (or left out)");
    }
    this.cacheUse =
      dependencies.cache === undefined || control !== undefined ? undefined : { cache: dependencies.cache, hit: false };
  }

  /** How one target is called within this call; `signal` is the attempt's (routes time attempts out). */
  context(signal: AbortSignal): TargetCallContext {
    const { dispatcher, askStreamUsage } = this.#dependencies;
    return { dispatcher, signal, askStreamUsage };
  }

  run<T>(attempt: TargetAttempt<T>): Promise<CallOutcome<T>> {
    return this.#dependencies.runner.run(this.#callRequest(), attempt);
  }

  stream<C>(attempt: TargetAttempt<AsyncIterable<C>>): Promise<CallOutcome<OpenedStream<C>>> {
    return this.#dependencies.runner.stream(this.#callRequest(), attempt);
  }

  /** The cache key of this request sent to `loaded` (the request normalised once per call). */
  cacheKey(loaded: LoadedModel): string {
    this.#fingerprint ??= requestFingerprint(this.#request.body);
    return cacheKey(
      this.#request.principal.projectId,
      this.#endpoint,
      targetLabel(loaded.descriptor),
      this.#fingerprint,
    );
  }

  clientGone = (): boolean => this.#abort.clientGone();

  /** Says which model (and route) answered, and what the cache did: headers and the usage record. */
  answered(outcome: CallOutcome<unknown>): string {
    const { descriptor } = outcome.loaded;
    const target = targetLabel(descriptor);
    const reply = this.#reply;
    this.meter.target({ descriptor, route: outcome.route?.name, attempts: outcome.attempts });
    if (outcome.trace !== undefined) this.meter.trace(outcome.trace);
    const cache = this.cacheUse === undefined ? 'bypass' : this.cacheUse.hit ? 'hit' : 'miss';
    this.meter.cache(cache);
    reply.header('x-ensemble-target', target);
    reply.header('x-ensemble-model-version', String(descriptor.version));
    reply.header(cacheStatusHeader, cache);
    if (outcome.route !== undefined) reply.header('x-ensemble-route', `${outcome.route.name}@${outcome.route.version}`);
    return target;
  }

  /** The catch of the call: the client gets the upstream's own refusal, or the error as the catalogue says. */
  failed(error: unknown): FastifyReply {
    const { meter } = this;
    if (this.#abort.clientGone()) {
      // Nobody to answer: not a failure of Ensemble's (no error log, no 500), just the end of the call.
      meter.clientClosed();
      this.#request.log.info({ target: meter.targetName }, 'client disconnected; upstream call stopped');
      this.#reply.hijack();
      this.#reply.raw.destroy();
      return this.#reply;
    }
    meter.cache(this.cacheUse === undefined ? 'bypass' : 'miss');
    const attempts = EnsembleError.isInstance(error) ? error.details?.attempts : undefined;
    if (typeof attempts === 'number') meter.attempts(attempts);
    const trace = EnsembleError.isInstance(error) ? error.details?.trace : undefined;
    if (Array.isArray(trace)) meter.trace(trace as RouteTrace);
    const refusal = UpstreamRefusal.find(error);
    if (refusal !== undefined) {
      meter.fail(refusal.status, refusal.code);
      return this.#reply.code(refusal.status).type(refusal.contentType).send(refusal.body);
    }
    const thrown = this.#abort.signal.aborted ? this.#abort.signal.reason : error;
    meter.failWith(thrown);
    throw thrown;
  }

  dispose(): void {
    this.#abort.dispose();
  }

  #callRequest(): CallRequest {
    const request = this.#request;
    if (this.#cacheRefusal !== undefined) throw this.#cacheRefusal;
    assertModelAllowed(request.principal, request.body.model);
    return {
      principal: request.principal,
      requested: request.body.model,
      expectation: this.#expectation,
      signal: this.#abort.signal,
      log: request.log,
      onRoute: (route) => this.meter.route(route.name),
      onTarget: (loaded) => this.meter.target({ descriptor: loaded.descriptor }),
      context: () => routeContext(request),
    };
  }
}

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
