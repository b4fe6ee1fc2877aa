import { Counter, Gauge, type Registry } from 'prom-client';
import type { MetricsCollector } from '../../plugins/metrics-collector.ts';
import type { UsageRecorderStats } from './buffered-usage-recorder.ts';

/**
 * The usage recorder on `/metrics`: events recorded, published and dropped (buffer full, or left over
 * when a shutdown flush ran out of time), failed publishes, and what is buffered now. Read from the
 * recorder's counters at each scrape, so recording itself touches no metric.
 */
export function usageRecorderCollector(recorder: { stats(): UsageRecorderStats }): MetricsCollector {
  return {
    name: 'usage-recorder',
    register(registry: Registry) {
      const counter = (name: string, help: string, read: (stats: UsageRecorderStats) => number) =>
        new Counter({
          name,
          help,
          registers: [registry],
          collect() {
            this.reset();
            this.inc(read(recorder.stats()));
          },
        });
      counter(
        'ensemble_usage_events_recorded_total',
        'Usage events the gateway handed to the recorder.',
        (s) => s.recorded,
      );
      counter('ensemble_usage_events_published_total', 'Usage events published to ensemble.usage.', (s) => s.published);
      counter(
        'ensemble_usage_events_dropped_total',
        'Usage events lost: the buffer was full (the event bus unreachable for long), or a shutdown flush ran out of time.',
        (s) => s.dropped,
      );
      counter(
        'ensemble_usage_publish_failures_total',
        'Publishes of usage events that failed and were retried.',
        (s) => s.publishFailures,
      );
      new Gauge({
        name: 'ensemble_usage_events_buffered',
        help: 'Usage events waiting to be published.',
        registers: [registry],
        collect() {
          this.set(recorder.stats().buffered);
        },
      });
    },
  };
}
