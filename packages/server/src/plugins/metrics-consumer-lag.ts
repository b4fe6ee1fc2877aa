import type { EventBus, Logger } from '@ensemble/core';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { MetricsCollector } from './metrics-collector.ts';

/** A consumer group and the topics it reads (omitted: the topics it has committed in). */
export interface LagGroup {
  groupId: string;
  topics?: readonly string[];
}

export interface ConsumerLagCollectorOptions {
  bus: Pick<EventBus, 'consumerLag'>;
  /** Read on every scrape, so groups added later are reported. */
  groups: () => readonly LagGroup[];
  /** How long one scrape waits for the bus. Default 5 s (Prometheus' own scrape timeout is 10 s). */
  timeoutMs?: number;
  logger?: Logger;
}

/**
 * `ensemble_consumer_lag{group,topic,partition}`, computed from the bus on each scrape. A group whose
 * lag cannot be read in time gives no samples and counts one `ensemble_consumer_lag_errors_total`;
 * the scrape itself still succeeds.
 */
export function consumerLagCollector(options: ConsumerLagCollectorOptions): MetricsCollector {
  const timeoutMs = options.timeoutMs ?? 5_000;
  return {
    name: 'consumer-lag',
    register(registry: Registry) {
      let pending: Promise<void> = Promise.resolve();
      new Gauge({
        name: 'ensemble_consumer_lag',
        help: 'Records published but not yet handled by a consumer group, per partition.',
        labelNames: ['group', 'topic', 'partition'] as const,
        registers: [registry],
        async collect() {
          this.reset();
          pending = Promise.all(
            options.groups().map(async ({ groupId, topics }) => {
              // A counter that exists from the first scrape makes `rate()` see its first increment.
              errors.inc({ group: groupId }, 0);
              try {
                const rows = await bounded(
                  options.bus.consumerLag(groupId, topics, AbortSignal.timeout(timeoutMs)),
                  timeoutMs,
                );
                for (const row of rows) {
                  this.set({ group: groupId, topic: row.topic, partition: String(row.partition) }, row.lag);
                }
              } catch (error) {
                errors.inc({ group: groupId });
                options.logger?.warn({ err: error, groupId }, 'consumer lag could not be read for /metrics');
              }
            }),
          ).then(() => undefined);
          await pending;
        },
      });
      // The registry reads every metric at once: waiting for the gauge's collect lets a scrape show
      // the errors of that very scrape.
      const errors = new Counter({
        name: 'ensemble_consumer_lag_errors_total',
        help: 'Scrapes that could not read a consumer group lag from the event bus.',
        labelNames: ['group'] as const,
        registers: [registry],
        async collect() {
          await pending;
        },
      });
    },
  };
}

/** A source that ignores its signal still cannot hold a scrape past the deadline. */
function bounded<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  work.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs + 100);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
