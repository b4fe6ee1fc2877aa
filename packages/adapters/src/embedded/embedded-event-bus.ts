import {
  batchDeliveryOf,
  defaultRetryPolicy,
  EnsembleError,
  type EventBus,
  eventEnvelopeSchema,
  type Logger,
  notFound,
  type PartitionLag,
  type PublishRecord,
  type SubscribeOptions,
  type Subscription,
  silentLogger,
  type TopicSpec,
  topicNamePattern,
  validationError,
} from '@ensemble/core';
import { sql } from 'kysely';
import { advisoryLockKey } from '../postgres/advisory-lock-key.ts';
import type { Database } from '../postgres/create-database.ts';
import { pingDatabase } from '../postgres/database-check.ts';
import { withDatabaseErrors } from '../postgres/database-errors.ts';
import { readConsumerLag } from './bus-lag.ts';
import { appendRecords, createTopics, deleteExpiredRecords, partitionCounts } from './bus-log.ts';
import { EmbeddedSubscription } from './embedded-subscription.ts';
import { withinDeadline } from './within-deadline.ts';

export interface EmbeddedEventBusOptions {
  /** The bus's PostgreSQL (migrated); each subscription also opens one connection of its own. */
  database: Database;
  /** Close `database` when the bus closes. */
  ownsDatabase?: boolean;
  logger?: Logger;
  /** Partitions of a topic created implicitly, by publishing or subscribing to it. */
  defaultPartitions?: number;
  /** How often an idle partition looks for records when no NOTIFY arrived. */
  pollIntervalMs?: number;
  batchSize?: number;
  /** How often members heartbeat and rebalance partitions. */
  rebalanceIntervalMs?: number;
  /** A member silent this long no longer counts toward its group's fair shares. */
  memberTimeoutMs?: number;
  /** How long `close()` lets in-flight handlers finish before aborting their signals. */
  closeTimeoutMs?: number;
  /** Upper bound of one `consumerLag` call. Default 10 s. */
  lagTimeoutMs?: number;
  /** Deletes records older than `maxAgeMs` that every group has passed, every `intervalMs`; false turns it off. */
  retention?: { maxAgeMs: number; intervalMs: number } | false;
}

const defaultRetention = { maxAgeMs: 7 * 24 * 3_600_000, intervalMs: 60_000 };

/**
 * The EventBus on PostgreSQL, for running without Kafka: a durable log partitioned by key,
 * consumer groups with committed offsets, at-least-once delivery in key order, NOTIFY wake-ups
 * with a poll fallback, retries and dead letters as the port describes.
 */
export class EmbeddedEventBus implements EventBus {
  readonly kind = 'embedded' as const;
  readonly #database: Database;
  readonly #options: EmbeddedEventBusOptions;
  readonly #logger: Logger;
  readonly #partitions = new Map<string, number>();
  readonly #subscriptions = new Set<EmbeddedSubscription>();
  readonly #retentionTimer: NodeJS.Timeout | undefined;
  #closed: Promise<void> | undefined;

  constructor(options: EmbeddedEventBusOptions) {
    this.#options = options;
    this.#database = options.database;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'embedded-event-bus' });
    const retention = options.retention === undefined ? defaultRetention : options.retention;
    if (retention) {
      this.#retentionTimer = setInterval(() => {
        this.deleteExpiredRecords(retention.maxAgeMs).catch((error: unknown) => {
          this.#logger.warn({ err: String(error) }, 'retention could not run');
        });
      }, retention.intervalMs);
      this.#retentionTimer.unref();
    }
  }

  async ensureTopics(topics: readonly TopicSpec[]): Promise<void> {
    this.#assertOpen();
    topics.forEach((topic, i) => {
      assertTopicName(topic.name, `topics[${i}].name`);
      if (!Number.isInteger(topic.partitions) || topic.partitions < 1 || topic.partitions > 10_000) {
        throw validationError(`topics[${i}].partitions`, 'must be an integer from 1 to 10000');
      }
    });
    await this.#withBusErrors(() => createTopics(this.#database.db, topics));
    await this.#partitionCounts(topics.map((topic) => topic.name));
  }

  async publish(records: readonly PublishRecord[]): Promise<void> {
    this.#assertOpen();
    if (records.length === 0) return;
    const rows = records.map((record, i) => {
      assertTopicName(record.topic, `records[${i}].topic`);
      if (typeof record.key !== 'string') throw validationError(`records[${i}].key`, 'must be a string');
      const parsed = eventEnvelopeSchema.safeParse(record.value);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw validationError(
          `records[${i}].value${issue?.path.length ? `.${issue.path.join('.')}` : ''}`,
          `not a valid event envelope: ${issue?.message ?? 'invalid'}`,
        );
      }
      return { topic: record.topic, key: record.key, value: JSON.stringify(record.value) };
    });
    await this.#withBusErrors(async () => {
      const partitions = await this.#partitionCounts(rows.map((row) => row.topic));
      await appendRecords(this.#database.db, rows, partitions);
    });
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.#assertOpen();
    if (typeof options.groupId !== 'string' || options.groupId.length === 0 || options.groupId.length > 249) {
      throw validationError('groupId', 'must be 1-249 characters');
    }
    if (options.topics.length === 0) throw validationError('topics', 'name at least one topic');
    options.topics.forEach((topic, i) => {
      assertTopicName(topic, `topics[${i}]`);
    });
    if (options.deadLetterTopic !== undefined) assertTopicName(options.deadLetterTopic, 'deadLetterTopic');
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw validationError('concurrency', 'must be a positive integer');
    }
    const delivery = batchDeliveryOf(options);
    if (!Number.isInteger(delivery.maxRecords) || delivery.maxRecords < 1 || delivery.maxRecords > 10_000) {
      throw validationError('batch.maxRecords', 'must be an integer from 1 to 10000');
    }
    const topics = await this.#withBusErrors(() => this.#partitionCounts([...new Set(options.topics)]));
    const subscription = new EmbeddedSubscription({
      database: this.#database,
      groupId: options.groupId,
      topics,
      delivery,
      retry: options.retry ?? defaultRetryPolicy,
      deadLetterTopic: options.deadLetterTopic,
      concurrency,
      publish: (records) => this.publish(records),
      pollIntervalMs: this.#options.pollIntervalMs ?? 1_000,
      batchSize: this.#options.batchSize ?? 100,
      rebalanceIntervalMs: this.#options.rebalanceIntervalMs ?? 1_000,
      memberTimeoutMs: this.#options.memberTimeoutMs ?? 10_000,
      closeTimeoutMs: this.#options.closeTimeoutMs ?? 30_000,
      logger: this.#logger,
    });
    await subscription.start();
    this.#subscriptions.add(subscription);
    const close = subscription.close.bind(subscription);
    return {
      groupId: subscription.groupId,
      close: async () => {
        await close();
        this.#subscriptions.delete(subscription);
      },
    };
  }

  ping(signal?: AbortSignal): Promise<void> {
    return pingDatabase(this.#database.pool, signal, 'event_bus_unavailable');
  }

  async consumerLag(groupId: string, topics?: readonly string[], signal?: AbortSignal): Promise<PartitionLag[]> {
    this.#assertOpen();
    if (typeof groupId !== 'string' || groupId.length === 0 || groupId.length > 249) {
      throw validationError('groupId', 'must be 1-249 characters');
    }
    topics?.forEach((topic, i) => {
      assertTopicName(topic, `topics[${i}]`);
    });
    const work = this.#withBusErrors(async () => {
      if (topics) {
        // Named topics must exist, as on Kafka; lag never creates a topic.
        const found = await partitionCounts(this.#database.db, topics);
        const missing = topics.filter((topic) => !found.has(topic));
        if (missing.length > 0) throw notFound('topic', missing.join(', '));
      }
      return readConsumerLag(this.#database.db, groupId, topics);
    });
    return withinDeadline(work, this.#options.lagTimeoutMs ?? 10_000, 'consumerLag', signal);
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      clearInterval(this.#retentionTimer);
      await Promise.all([...this.#subscriptions].map((subscription) => subscription.close()));
      this.#subscriptions.clear();
      if (this.#options.ownsDatabase) await this.#database.close();
    })();
    return this.#closed;
  }

  /** Runs retention once (the bus also runs it periodically); returns how many records went. */
  async deleteExpiredRecords(maxAgeMs: number): Promise<number> {
    return this.#withBusErrors(() =>
      this.#database.db.transaction().execute(async (trx) => {
        // One process at a time; the others skip this round.
        const { rows } = await sql<{ locked: boolean }>`
          select pg_try_advisory_xact_lock(${advisoryLockKey('ensemble-bus', 'retention')}::bigint) as locked`.execute(
          trx,
        );
        return rows[0]?.locked ? deleteExpiredRecords(trx, maxAgeMs) : 0;
      }),
    );
  }

  /** Partition counts, creating topics that do not exist with the default count. Counts never change. */
  async #partitionCounts(names: readonly string[]): Promise<Map<string, number>> {
    const missing = [...new Set(names)].filter((name) => !this.#partitions.has(name));
    if (missing.length > 0) {
      let found = await partitionCounts(this.#database.db, missing);
      const absent = missing.filter((name) => !found.has(name));
      if (absent.length > 0) {
        const partitions = this.#options.defaultPartitions ?? 3;
        await createTopics(
          this.#database.db,
          absent.map((name) => ({ name, partitions })),
        );
        found = await partitionCounts(this.#database.db, missing);
      }
      for (const [name, count] of found) this.#partitions.set(name, count);
    }
    return new Map(names.map((name) => [name, this.#partitions.get(name) as number]));
  }

  #withBusErrors<T>(operation: () => Promise<T>): Promise<T> {
    return withDatabaseErrors(operation, 'event_bus_unavailable');
  }

  #assertOpen(): void {
    if (this.#closed) throw new EnsembleError('shutting_down', 'the event bus is closed');
  }
}

function assertTopicName(name: unknown, field: string): void {
  if (typeof name !== 'string' || !topicNamePattern.test(name)) {
    throw validationError(field, "must be 1-249 letters, digits, '.', '_' or '-'");
  }
}
