import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { FastCounter, FastHistogram } from './fast-metrics.ts';
import type { MetricsCollector } from './metrics-collector.ts';

export interface MetricsOptions {
  /** Extra metrics (consumer lag, …) registered after the built-in ones. */
  collectors?: readonly MetricsCollector[];
  /** Node process metrics (CPU, memory, event loop, GC); on by default. */
  defaultMetrics?: boolean;
}

export const metricsPath = '/metrics';

declare module 'fastify' {
  interface FastifyInstance {
    /** The app's Prometheus registry, where modules add their own metrics; absent without `/metrics`. */
    metricsRegistry?: Registry;
  }
}

/** Request latency buckets in seconds: from fast API calls to long completions. */
const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/**
 * `GET /metrics` in the Prometheus text format: process metrics, requests by method, route template
 * and status, and the collectors the composition root passes. Each app has its own registry, so
 * several apps in one process (tests) do not share counts. Hidden from the OpenAPI document and, for
 * now, not behind authentication: expose it only on a private network until auth lands.
 */
async function metricsPlugin(app: FastifyInstance, options: MetricsOptions) {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const labelNames = ['method', 'route', 'status'] as const;
  // Plain accumulators rendered by the registry: counting a request is a map lookup, not label hashing.
  const requests = new FastCounter({
    name: 'ensemble_http_requests_total',
    help: 'HTTP requests answered, by method, route template and status code.',
    labelNames,
    registry,
  });
  const duration = new FastHistogram({
    name: 'ensemble_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method, route template and status code.',
    labelNames,
    buckets: latencyBuckets,
    registry,
  });
  for (const collector of options.collectors ?? []) collector.register(registry);
  app.decorate('metricsRegistry', registry);

  app.addHook('onResponse', (request, reply, done) => {
    // The route template (`/v1/models/:id`), never the raw URL, keeps the label set small; requests that
    // matched no route share one value.
    const { method } = request;
    const route = request.routeOptions.url ?? 'unmatched';
    const status = String(reply.statusCode);
    const key = `${method} ${route} ${status}`;
    const values = [method, route, status];
    requests.add(key, values);
    duration.observe(key, values, reply.elapsedTime / 1000);
    done();
  });

  app.get(metricsPath, { schema: { hide: true } }, async (_request, reply) => {
    const body = await registry.metrics();
    return reply.type(registry.contentType).send(body);
  });
}

export default fp(metricsPlugin, { name: 'ensemble-metrics' });
