import { OutboxRelay } from '@ensemble/adapters/postgres';
import type { EnsembleConfig, Logger } from '@ensemble/core';
import { consumerLagCollector, type MetricsOptions } from '@ensemble/server';
import {
  type BackgroundService,
  type ConsumerDefinition,
  ConsumerLagReporter,
  consumerLagGroups,
  type WorkerOptions,
} from '@ensemble/worker';
import type { Platform } from './open-platform.ts';

/** The consumers the domains contribute (none yet); their groups are the ones whose lag is reported. */
function workerConsumers(): ConsumerDefinition[] {
  return [];
}

/**
 * What a worker process runs: the outbox relay, the consumers the domains contribute, and, when
 * enabled, the consumer-lag EMF reporter (on by default on ECS, where it feeds worker auto-scaling).
 */
export function workerParts(platform: Platform, logger: Logger, config: EnsembleConfig): WorkerOptions {
  const relay = new OutboxRelay({ database: platform.database, bus: platform.bus, logger });
  const consumers = workerConsumers();
  const services: BackgroundService[] = [
    { name: 'outbox-relay', start: () => relay.start(), stop: () => relay.stop() },
  ];
  const intervalSeconds = config.metrics.emfIntervalSeconds ?? (config.ecs.agentUri ? 60 : 0);
  if (intervalSeconds > 0) {
    const groups = consumerLagGroups(consumers);
    services.push(new ConsumerLagReporter({ bus: platform.bus, groups: () => groups, intervalSeconds, logger }));
  }
  return { bus: platform.bus, logger, services, consumers, protection: platform.protection };
}

/** `/metrics` of the server: the lag of the worker's consumer groups, wherever the workers run. */
export function serverMetrics(platform: Platform, logger: Logger): MetricsOptions {
  const groups = consumerLagGroups(workerConsumers());
  return { collectors: [consumerLagCollector({ bus: platform.bus, groups: () => groups, logger })] };
}
