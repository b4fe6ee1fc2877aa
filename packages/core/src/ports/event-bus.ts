import type { EventEnvelope } from '../events/event-envelope.ts';

/**
 * The event spine. Delivery is at least once and ordered per key: records with the same key land
 * in the same partition, and a partition is handled by one consumer of a group at a time, one
 * record after another. A handler that throws is retried with backoff; its offset is committed only
 * after it succeeds, so a crash re-delivers instead of losing.
 */
export interface EventBus {
  readonly kind: 'kafka' | 'embedded';
  /** Creates the topics that do not exist yet; existing topics are left as they are. */
  ensureTopics(topics: readonly TopicSpec[]): Promise<void>;
  /** Resolves once every record is durable (Kafka: acknowledged by all in-sync replicas). */
  publish(records: readonly PublishRecord[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /** Throws an `event_bus_unavailable` EnsembleError when the bus cannot be reached. */
  ping(signal?: AbortSignal): Promise<void>;
  /**
   * How far a consumer group is behind, per partition of `topics` (default: the topics the group has
   * committed offsets in; a group that has committed nothing then has no rows). A partition the group
   * has not committed in counts from the earliest offset still kept. Bounded in time; an unreachable
   * bus throws `event_bus_unavailable`, an unknown topic `not_found`.
   */
  consumerLag(groupId: string, topics?: readonly string[], signal?: AbortSignal): Promise<PartitionLag[]>;
  /** Drains and closes every subscription, then the producer. */
  close(): Promise<void>;
}

/** One partition's position for a group: `lag` records lie between its committed offset and the end. */
export interface PartitionLag {
  topic: string;
  partition: number;
  /** The next offset the group will read (Kafka's committed offset); null when it has committed none. */
  committedOffset: string | null;
  /** The offset the next published record will get (the high watermark). */
  endOffset: string;
  lag: number;
}

export interface TopicSpec {
  name: string;
  partitions: number;
}

export interface PublishRecord<T = unknown> {
  topic: string;
  /** Records with one key keep their order. */
  key: string;
  value: EventEnvelope<T>;
}

export interface BusMessage<T = unknown> {
  topic: string;
  partition: number;
  /** Kafka offsets are 64-bit, so they travel as decimal strings. */
  offset: string;
  key: string;
  value: EventEnvelope<T>;
  /** 1 on the first delivery in this consumer; grows with each retry of a failing handler. */
  attempt: number;
}

export type MessageHandler = (message: BusMessage, signal: AbortSignal) => Promise<void>;

/**
 * Handles consecutive records of one partition together, in offset order: from 1 to `maxRecords` of
 * them, as many as are waiting. A throw fails them all: they are retried together, and after
 * `retry.maxAttempts` each is dead-lettered. For writers that gain from batching (the usage ledger).
 */
export type BatchHandler = (messages: readonly BusMessage[], signal: AbortSignal) => Promise<void>;

export interface BatchDelivery {
  handler: BatchHandler;
  /** The most records handed over at once (1 to 10,000). */
  maxRecords: number;
}

export interface RetryPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  /** Omit to retry forever (the partition waits); set it together with a dead-letter topic. */
  maxAttempts?: number;
}

/** A subscription takes its records one by one (`handler`) or in batches (`batch`). */
export type SubscribeOptions = SubscribeCommonOptions &
  ({ handler: MessageHandler; batch?: undefined } | { batch: BatchDelivery; handler?: undefined });

export interface SubscribeCommonOptions {
  groupId: string;
  topics: readonly string[];
  retry?: RetryPolicy;
  /**
   * Where a record goes when it cannot be handled: its value is not a valid event envelope, or the
   * handler failed `retry.maxAttempts` times. Without one, invalid records are logged and skipped
   * and failing handlers are retried forever.
   */
  deadLetterTopic?: string;
  /** How many partitions one subscription handles at once (each partition stays sequential). */
  concurrency?: number;
}

export interface Subscription {
  readonly groupId: string;
  /** Stops fetching, waits for in-flight handlers, commits, and leaves the group. */
  close(): Promise<void>;
}

/** The delivery of a subscription as batches: a one-by-one handler is a batch handler of one record. */
export function batchDeliveryOf(options: SubscribeOptions): BatchDelivery {
  if (options.batch !== undefined) return options.batch;
  const { handler } = options;
  return { handler: (messages, signal) => handler(messages[0] as BusMessage, signal), maxRecords: 1 };
}

export const defaultRetryPolicy: RetryPolicy = { initialDelayMs: 100, maxDelayMs: 30_000 };

/** Exponential backoff with full jitter, capped; `attempt` starts at 1. */
export function retryDelayMs(policy: RetryPolicy, attempt: number, random = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** The value of a record sent to a dead-letter topic. */
export interface DeadLetter {
  topic: string;
  partition: number;
  offset: string;
  key: string;
  /**
   * `invalid_envelope`: not an event envelope; `handler_failed`: the last attempt failed;
   * `invalid_data`: a valid envelope whose data the consumer's schema refused (no attempt could help).
   */
  reason: 'invalid_envelope' | 'handler_failed' | 'invalid_data';
  error: string;
  attempts: number;
  /** The original envelope, or the raw text when it was not a valid one. */
  original: unknown;
}

export const deadLetterEventType = 'bus/message.dead-lettered';
