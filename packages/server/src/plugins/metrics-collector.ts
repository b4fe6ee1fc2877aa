import type { Registry } from 'prom-client';

/**
 * Something a composition root adds to `/metrics`: it registers its metrics on the app's registry,
 * usually with a `collect()` that computes them on each scrape.
 */
export interface MetricsCollector {
  readonly name: string;
  register(registry: Registry): void;
}
