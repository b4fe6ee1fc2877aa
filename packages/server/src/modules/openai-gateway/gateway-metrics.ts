import type { RouteTrace, UsageEvent } from '@ensemble/core';
import { Gauge, type Registry } from 'prom-client';
import { FastCounter, FastHistogram } from '../../plugins/fast-metrics.ts';
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
 * `none`), HTTP status, error codes from the catalogue. The per-call ones are `FastCounter` /
 * `FastHistogram`: a request costs a few map lookups, not prom-client's label hashing.
 */
export class GatewayMetrics {
  readonly #requests: FastCounter;
  readonly #duration: FastHistogram;
  readonly #firstToken: FastHistogram;
  readonly #tokens: FastCounter;
  readonly #cost: FastCounter;
  readonly #upstreamErrors: FastCounter;
  readonly #cacheRequests: FastCounter;

  constructor(registry: Registry, sources: { breakers: ProjectBreakers; cache: ResponseCache | undefined }) {
    this.#requests = new FastCounter({
      name: 'ensemble_gateway_requests_total',
      help: 'Calls to /v1 chat completions and embeddings, by endpoint, answering model, status and streaming.',
      labelNames: ['endpoint', 'model', 'status', 'stream'],
      registry,
    });
    this.#duration = new FastHistogram({
      name: 'ensemble_gateway_request_duration_seconds',
      help: 'Time from a /v1 call arriving to its last byte, by endpoint and streaming.',
      labelNames: ['endpoint', 'stream'],
      buckets: latencyBuckets,
      registry,
    });
    this.#firstToken = new FastHistogram({
      name: 'ensemble_gateway_time_to_first_token_seconds',
      help: 'Streams: time from the call arriving to its first chunk leaving Ensemble, by model.',
      labelNames: ['model'],
      buckets: firstTokenBuckets,
      registry,
    });
    this.#tokens = new FastCounter({
      name: 'ensemble_gateway_tokens_total',
      help: 'Tokens of answered calls, by model and direction (input, output).',
      labelNames: ['model', 'direction'],
      registry,
    });
    this.#cost = new FastCounter({
      name: 'ensemble_gateway_cost_usd_total',
      help: "Cost of answered calls from the registry's pricing, in US dollars, by model (cache hits cost nothing).",
      labelNames: ['model'],
      registry,
    });
    this.#upstreamErrors = new FastCounter({
      name: 'ensemble_gateway_upstream_errors_total',
      help: 'Failed upstream attempts (route attempts included), by model and error code.',
      labelNames: ['model', 'code'],
      registry,
    });
    this.#cacheRequests = new FastCounter({
      name: 'ensemble_gateway_cache_requests_total',
      help: 'Calls by what the response cache did: hit, miss, or bypass (opted out or off).',
      labelNames: ['result'],
      registry,
    });
    const registers = [registry];
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
    const { endpoint } = event;
    const stream = event.stream ? 'true' : 'false';
    const status = String(event.status);
    this.#requests.add(`${endpoint}|${model}|${status}|${stream}`, [endpoint, model, status, stream]);
    this.#duration.observe(`${endpoint}|${stream}`, [endpoint, stream], event.latencyMs / 1000);
    this.#cacheRequests.add(cache, [cache]);
    if (event.timeToFirstTokenMs !== null) this.#firstToken.observe(model, [model], event.timeToFirstTokenMs / 1000);
    if (event.inputTokens > 0) this.#tokens.add(`${model}|input`, [model, 'input'], event.inputTokens);
    if (event.outputTokens > 0) this.#tokens.add(`${model}|output`, [model, 'output'], event.outputTokens);
    if (event.costUsd !== null && event.costUsd > 0) this.#cost.add(model, [model], event.costUsd);
    // Route attempts are counted from their trace; this is a plain model's failure, or any mid-stream one.
    const code = event.errorCode;
    if (
      code !== null &&
      upstreamCodes.has(code) &&
      event.target !== null &&
      (event.route === null || code === 'mid_stream_error')
    ) {
      this.#upstreamErrors.add(`${model}|${code}`, [model, code]);
    }
  }

  /** The failed attempts of a route call. */
  observeTrace(trace: RouteTrace): void {
    for (const record of trace) {
      if ((record.outcome === 'failure' || record.outcome === 'timeout') && record.errorCode !== undefined) {
        const model = modelOf(record.target);
        this.#upstreamErrors.add(`${model}|${record.errorCode}`, [model, record.errorCode]);
      }
    }
  }
}
