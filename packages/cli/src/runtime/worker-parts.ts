import {
  OutboxRelay,
  PostgresJobWebhookStore,
  PostgresJobWorkStore,
  PostgresRouteRepository,
  PostgresUsageLedger,
} from '@ensemble/adapters/postgres';
import { HmacWebhookSigner } from '@ensemble/adapters/webhooks';
import { defaultJobTopics, type EnsembleConfig, type Logger, type ModelRuntimeManager } from '@ensemble/core';
import {
  BufferedUsageRecorder,
  consumerLagCollector,
  GatewayJobModelCaller,
  type MetricsCollector,
  type MetricsOptions,
  PipelineJobRunner,
  type PipelineService,
  type UsageRecorderStats,
  usageRecorderCollector,
} from '@ensemble/server';
import {
  type BackgroundService,
  type ConsumerDefinition,
  ConsumerLagReporter,
  consumerLagGroups,
  jobConsumers,
  jobLagGroups,
  UsageLedgerMaintenance,
  usageLedgerConsumer,
  WebhookSender,
  type WorkerOptions,
} from '@ensemble/worker';
import type { Platform } from './open-platform.ts';
import { outboundGuardFor } from './outbound-guard-for.ts';

/** The usage ledger's consumer. */
function ledgerConsumers(platform: Platform, logger: Logger): ConsumerDefinition[] {
  const ledger = new PostgresUsageLedger(platform.database.db, { logger });
  return [usageLedgerConsumer({ bus: platform.bus, ledger, logger })];
}

/** The consumers the domains contribute (their groups are the ones whose lag is reported), and the services they need beside them. */
function workerConsumers(
  platform: Platform,
  logger: Logger,
  config: EnsembleConfig,
  runtimes: ModelRuntimeManager,
  masterKey: Buffer,
  pipelines: PipelineService | undefined,
): { consumers: ConsumerDefinition[]; services: BackgroundService[] } {
  // Jobs: the planner and the task runners, calling models the way /v1 does (and, like /v1, leaving a
  // usage event per call for the ledger; flushed when the worker stops, after its consumers).
  const usage = config.usage.ledger ? new BufferedUsageRecorder({ bus: platform.bus, logger }) : undefined;
  // Items of jobs pinned to a route run its policy; the route versions are read from storage (immutable).
  const caller = new GatewayJobModelCaller(runtimes, {
    usage,
    routes: new PostgresRouteRepository(platform.database.db),
    logger,
    // Models' base URLs are checked again when an item connects (saved earlier, or rebound since).
    upstreamConnector: outboundGuardFor(config).connector({ timeout: 10_000 }),
  });
  const jobs = jobConsumers({
    store: new PostgresJobWorkStore(platform.database.db, defaultJobTopics),
    caller,
    // pipeline-run items start runs on this process's pipeline service (recorded with `source: job`).
    pipelines: pipelines === undefined ? undefined : new PipelineJobRunner(pipelines),
    bus: platform.bus,
    logger,
    itemConcurrency: config.jobs.itemConcurrency,
    taskBatchSize: config.jobs.taskBatchSize,
    partitions: config.kafka.topicPartitions,
  });
  return {
    consumers: [...ledgerConsumers(platform, logger), ...jobs],
    services: [
      { name: 'jobs-model-caller', start: () => {}, stop: () => caller.close() },
      { name: 'jobs-usage', start: () => {}, stop: async () => usage?.close(5_000) },
      new WebhookSender({
        store: new PostgresJobWebhookStore(platform.database.db),
        signer: new HmacWebhookSigner(masterKey),
        logger,
        timeoutMs: config.jobs.webhookTimeoutMs,
        maxAttempts: config.jobs.webhookMaxAttempts,
        // A webhook URL saved while it resolved outside is refused when it now resolves inside.
        fetch: outboundGuardFor(config).guardedFetch,
      }),
    ],
  };
}

/**
 * What a worker process runs: the outbox relay, the consumers the domains contribute, the usage
 * ledger's maintenance (partitions ahead, retention), and, when enabled, the consumer-lag EMF
 * reporter (on by default on ECS, where it feeds worker auto-scaling).
 */
export function workerParts(
  platform: Platform,
  logger: Logger,
  config: EnsembleConfig,
  runtimes: ModelRuntimeManager,
  /** Derives the projects' webhook signing secrets. */
  masterKey: Buffer,
  /** Runs the items of `pipeline-run` jobs; without it they fail. */
  pipelines?: PipelineService,
): WorkerOptions {
  const relay = new OutboxRelay({ database: platform.database, bus: platform.bus, logger });
  const domains = workerConsumers(platform, logger, config, runtimes, masterKey, pipelines);
  const { consumers } = domains;
  const services: BackgroundService[] = [
    { name: 'outbox-relay', start: () => relay.start(), stop: () => relay.stop() },
    new UsageLedgerMaintenance({
      ledger: new PostgresUsageLedger(platform.database.db, { logger }),
      retentionDays: config.usage.retentionDays,
      logger,
    }),
    ...domains.services,
  ];
  const intervalSeconds = config.metrics.emfIntervalSeconds ?? (config.ecs.agentUri ? 60 : 0);
  if (intervalSeconds > 0) {
    const groups = consumerLagGroups(consumers);
    services.push(new ConsumerLagReporter({ bus: platform.bus, groups: () => groups, intervalSeconds, logger }));
  }
  return { bus: platform.bus, logger, services, consumers, protection: platform.protection };
}

/**
 * `/metrics` of the server: the lag of the worker's consumer groups, wherever the workers run, and
 * the usage recorder's counts (dropped events among them).
 */
export function serverMetrics(
  platform: Platform,
  logger: Logger,
  usage?: { stats(): UsageRecorderStats },
): MetricsOptions {
  const groups = [...consumerLagGroups(ledgerConsumers(platform, logger)), ...jobLagGroups()];
  const collectors: MetricsCollector[] = [consumerLagCollector({ bus: platform.bus, groups: () => groups, logger })];
  if (usage !== undefined) collectors.push(usageRecorderCollector(usage));
  return { collectors };
}
