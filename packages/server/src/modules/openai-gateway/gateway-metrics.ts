import type { RouteTrace, UsageEvent } from '@ensemble/core';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ProjectBreakers } from './project-breakers.ts';
import type { ResponseCache } from './response-cache.ts';

/** Seconds, from a cache hit's microseconds to a long completion. */
const latencyBuckets = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
];
const firstTokenBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Failures of an upstream (not of the request or of Ensemble) by their code. */
const upstreamCodes: ReadonlySet<string> = new Set([
  'upstream_error',
  'upstream_auth_failed',
  'upstream_bad_request',
  'rate_limited',
  'timeout',
  'mid_stream_error',
]);

const breakerStates = { closed: 0, half_open: 1, open: 2 } as const;

/** A model name without its version: labels stay bounded by the registry, not by its history. */
function modelOf(target: string | null): string {
  if (target === null) return 'none';
  const at = target.lastIndexOf('@');
  return at < 0 ? target : target.slice(0, at);
}

/**
 * The gateway's Prometheus metrics, all derived from the usage event each call ends with (plus the
 * route attempt traces, breaker states and the cache, read on scrape). Labels are bounded: the
 * endpoint, the model name (only models that exist; a requested name that resolved to nothing is
 * `none`), HTTP status, error codes from the catalogue. Children are cached so a request costs a
 * few map lookups, not label hashing.
 */
export class GatewayMetrics {
  readonly #requests: Counter<'endpoint' | 'model' | 'status' | 'stream'>;
  readonly #duration: Histogram<'endpoint' | 'stream'>;
  readonly #firstToken: Histogram<'model'>;
  readonly #tokens: Counter<'model' | 'direction'>;
  readonly #cost: Counter<'model'>;
  readonly #upstreamErrors: Counter<'model' | 'code'>;
  readonly #cacheRequests: Counter<'result'>;
  readonly #counters = new Map<string, { inc(value?: number): void }>();
  readonly #histograms = new Map<string, { observe(value: number): void }>();

  constructor(registry: Registry, sources: { breakers: ProjectBreakers; cache: ResponseCache | undefined }) {
    const registers = [registry];
    this.#requests = new Counter({
      name: 'ensemble_gateway_requests_total',
      help: 'Calls to /v1 chat completions and embeddings, by endpoint, answering model, status and streaming.',
      labelNames: ['endpoint', 'model', 'status', 'stream'],
      registers,
    });
    this.#duration = new Histogram({
      name: 'ensemble_gateway_request_duration_seconds',
      help: 'Time from a /v1 call arriving to its last byte, by endpoint and streaming.',
      labelNames: ['endpoint', 'stream'],
      buckets: latencyBuckets,
      registers,
    });
    this.#firstToken = new Histogram({
      name: 'ensemble_gateway_time_to_first_token_seconds',
      help: 'Streams: time from the call arriving to its first chunk leaving Ensemble, by model.',
      labelNames: ['model'],
      buckets: firstTokenBuckets,
      registers,
    });
    this.#tokens = new Counter({
      name: 'ensemble_gateway_tokens_total',
      help: 'Tokens of answered calls, by model and direction (input, output).',
      labelNames: ['model', 'direction'],
      registers,
    });
    this.#cost = new Counter({
      name: 'ensemble_gateway_cost_usd_total',
      help: "Cost of answered calls from the registry's pricing, in US dollars, by model (cache hits cost nothing).",
      labelNames: ['model'],
      registers,
    });
    this.#upstreamErrors = new Counter({
      name: 'ensemble_gateway_upstream_errors_total',
      help: 'Failed upstream attempts (route attempts included), by model and error code.',
      labelNames: ['model', 'code'],
      registers,
    });
    this.#cacheRequests = new Counter({
      name: 'ensemble_gateway_cache_requests_total',
      help: 'Calls by what the response cache did: hit, miss, or bypass (opted out or off).',
      labelNames: ['result'],
      registers,
    });
    new Gauge({
      name: 'ensemble_gateway_circuit_breaker_state',
      help: 'Circuit breaker per project and target: 0 closed, 1 half-open, 2 open.',
      labelNames: ['project', 'target'],
      registers,
      collect() {
        this.reset();
        for (const breaker of sources.breakers.snapshot()) {
          this.set({ project: breaker.projectId, target: breaker.target }, breakerStates[breaker.state]);
        }
      },
    });
    const { cache } = sources;
    new Gauge({
      name: 'ensemble_gateway_cache_bytes',
      help: 'Bytes held by the response cache (answers and keys).',
      registers,
      collect() {
        this.set(cache?.bytes ?? 0);
      },
    });
    new Gauge({
      name: 'ensemble_gateway_cache_entries',
      help: 'Answers held by the response cache.',
      registers,
      collect() {
        this.set(cache?.size ?? 0);
      },
    });
  }

  /** One finished call. */
  observe(event: UsageEvent, cache: 'hit' | 'miss' | 'bypass'): void {
    const model = modelOf(event.target);
    const stream = event.stream ? 'true' : 'false';
    this.#counter(`r|${event.endpoint}|${model}|${event.status}|${stream}`, () =>
      this.#requests.labels(event.endpoint, model, String(event.status), stream),
    ).inc();
    this.#histogram(`d|${event.endpoint}|${stream}`, () => this.#duration.labels(event.endpoint, stream)).observe(
      event.latencyMs / 1000,
    );
    this.#counter(`c|${cache}`, () => this.#cacheRequests.labels(cache)).inc();
    if (event.timeToFirstTokenMs !== null) {
      this.#histogram(`f|${model}`, () => this.#firstToken.labels(model)).observe(event.timeToFirstTokenMs / 1000);
    }
    if (event.inputTokens > 0) {
      this.#counter(`ti|${model}`, () => this.#tokens.labels(model, 'input')).inc(event.inputTokens);
    }
    if (event.outputTokens > 0) {
      this.#counter(`to|${model}`, () => this.#tokens.labels(model, 'output')).inc(event.outputTokens);
    }
    if (event.costUsd !== null && event.costUsd > 0) {
      this.#counter(`$|${model}`, () => this.#cost.labels(model)).inc(event.costUsd);
    }
    // Route attempts are counted from their trace; this is a plain model's failure, or any mid-stream one.
    const code = event.errorCode;
    if (
      code !== null &&
      upstreamCodes.has(code) &&
      event.target !== null &&
      (event.route === null || code === 'mid_stream_error')
    ) {
      this.#upstreamError(model, code);
    }
  }

  /** The failed attempts of a route call. */
  observeTrace(trace: RouteTrace): void {
    for (const record of trace) {
      if ((record.outcome === 'failure' || record.outcome === 'timeout') && record.errorCode !== undefined) {
        this.#upstreamError(modelOf(record.target), record.errorCode);
      }
    }
  }

  #upstreamError(model: string, code: string): void {
    this.#counter(`e|${model}|${code}`, () => this.#upstreamErrors.labels(model, code)).inc();
  }

  #counter(key: string, make: () => { inc(value?: number): void }): { inc(value?: number): void } {
    let child = this.#counters.get(key);
    if (child === undefined) {
      child = make();
      this.#counters.set(key, child);
    }
    return child;
  }

  #histogram(key: string, make: () => { observe(value: number): void }): { observe(value: number): void } {
    let child = this.#histograms.get(key);
    if (child === undefined) {
      child = make();
      this.#histograms.set(key, child);
    }
    return child;
  }
}
