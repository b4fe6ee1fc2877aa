import {
  batchDeliveryOf,
  defaultRetryPolicy,
  EnsembleError,
  type EventBus,
  eventEnvelopeSchema,
  type Logger,
  type PartitionLag,
  type PublishRecord,
  type SubscribeOptions,
  type Subscription,
  type TopicSpec,
  topicNamePattern,
  validationError,
} from '@ensemble/core';
import { Admin, compatibilityPartitioner, ProduceAcks, Producer } from '@platformatic/kafka';
import { ConcurrencyLimit } from './concurrency-limit.ts';
import { readKafkaConsumerLag } from './kafka-consumer-lag.ts';
import {
  describeKafkaSecurity,
  type KafkaClientSecurity,
  type KafkaSaslOptions,
  type KafkaTlsOptions,
  kafkaClientSecurity,
} from './kafka-security.ts';
import { KafkaSubscription } from './kafka-subscription.ts';
import { type KafkaErrorContext, mapKafkaError } from './map-kafka-error.ts';
import { sleep, withDeadline } from './with-deadline.ts';

export interface KafkaEventBusOptions {
  /** `host:port` of one or more brokers to bootstrap from. */
  brokers: string[];
  clientId: string;
  /** Replicas of each topic `ensureTopics` creates (1 for a single dev broker, 3 on MSK). */
  replicationFactor: number;
  /** How long to wait for a TCP connection to a broker; `ping()` gives up after twice this. */
  connectTimeoutMs: number;
  logger: Logger;
  /** Upper bound of one publish, topic creation or commit flush. Default 30 s. */
  requestTimeoutMs?: number;
  /** Consumer group session: how long a vanished consumer keeps its partitions. Default 10 s. */
  sessionTimeoutMs?: number;
  /** TLS in transit: `true` with the system CAs (Amazon MSK), or a private CA. Default plaintext. */
  tls?: KafkaTlsOptions;
  /** SASL authentication (SCRAM on MSK's port 9096, IAM on 9098). Default none. */
  sasl?: KafkaSaslOptions;
  /**
   * Prepended to every topic and consumer group name on the cluster, so several installations (or
   * test runs) can share one cluster without reading each other's records. Callers keep using the
   * plain names; messages, dead letters and lag report them plain too. Default none.
   */
  namePrefix?: string;
}

const namePrefixPattern = /^[A-Za-z0-9._-]{0,100}$/;

const brokerPattern = /^[^\s:]+:\d{1,5}$/;

/**
 * The EventBus port on Apache Kafka through @platformatic/kafka. One producer serves publish and dead
 * letters; each subscription is its own consumer group member. Keys go to partitions with Kafka's
 * Java-compatible murmur2 partitioner, so any Kafka client producing the same key agrees on its partition.
 * Every broker call is bounded: an unreachable broker fails the call with `event_bus_unavailable`.
 */
export class KafkaEventBus implements EventBus {
  readonly kind = 'kafka' as const;
  readonly #options: Required<Omit<KafkaEventBusOptions, 'tls' | 'sasl' | 'namePrefix'>>;
  readonly #prefix: string;
  readonly #security: KafkaClientSecurity;
  /** Transport and mechanism, for messages: `TLS, SASL scram-sha-512 as user 'x'` (no secrets). */
  readonly #securityLabel: string;
  readonly #logger: Logger;
  readonly #producer: Producer<Buffer, Buffer, Buffer, Buffer>;
  readonly #admin: Admin;
  readonly #subscriptions = new Set<KafkaSubscription>();
  #closed: Promise<void> | undefined;

  constructor(options: KafkaEventBusOptions) {
    if (options.brokers.length === 0 || !options.brokers.every((broker) => brokerPattern.test(broker))) {
      throw new EnsembleError('config_invalid', `Kafka brokers must be host:port values, got '${options.brokers}'`, {
        field: 'brokers',
      });
    }
    if (!Number.isInteger(options.replicationFactor) || options.replicationFactor < 1) {
      throw new EnsembleError('config_invalid', 'the Kafka replication factor must be a positive integer', {
        field: 'replicationFactor',
      });
    }
    const { tls, sasl, namePrefix = '', ...rest } = options;
    if (!namePrefixPattern.test(namePrefix)) {
      throw new EnsembleError(
        'config_invalid',
        "the Kafka name prefix may hold up to 100 letters, digits, '.', '_' or '-'",
        {
          field: 'namePrefix',
        },
      );
    }
    this.#prefix = namePrefix;
    this.#options = { requestTimeoutMs: 30_000, sessionTimeoutMs: 10_000, ...rest };
    this.#security = kafkaClientSecurity(tls, sasl);
    this.#securityLabel = describeKafkaSecurity(tls, sasl);
    this.#logger = options.logger.child({ component: 'kafka-event-bus' });
    const client = {
      ...this.#security,
      bootstrapBrokers: [...options.brokers],
      connectTimeout: options.connectTimeoutMs,
      requestTimeout: this.#options.requestTimeoutMs,
      timeout: this.#options.requestTimeoutMs,
      // Few, quick retries inside the client: callers get a clear failure fast and retry themselves.
      retries: 3,
      retryDelay: 300,
    };
    this.#producer = new Producer({
      ...client,
      clientId: `${options.clientId}-producer`,
      acks: ProduceAcks.ALL,
      // The client retries a whole produce request when one partition in it fails (e.g. a new topic's
      // leader is not ready yet); idempotence lets the broker drop the copies that were already written.
      idempotent: true,
      partitioner: compatibilityPartitioner,
    });
    this.#admin = new Admin({ ...client, clientId: `${options.clientId}-admin` });
    // Without a listener an 'error' event would crash the process; failures surface through the calls.
    for (const emitter of [this.#producer, this.#admin]) {
      emitter.on('error', (error: Error) => this.#logger.warn({ err: error }, 'Kafka client error'));
    }
  }

  async ensureTopics(topics: readonly TopicSpec[]): Promise<void> {
    this.#assertOpen();
    topics.forEach((topic, i) => {
      if (!topicNamePattern.test(topic.name))
        throw validationError(`topics[${i}].name`, 'is not a valid Kafka topic name');
      if (!Number.isInteger(topic.partitions) || topic.partitions < 1) {
        throw validationError(`topics[${i}].partitions`, 'must be a positive integer');
      }
    });
    if (topics.length === 0) return;
    const names = topics.map((topic) => this.#prefix + topic.name);
    const context = { ...this.#errorContext('ensureTopics'), topics: names };
    const deadline = Date.now() + this.#options.requestTimeoutMs;
    const work = async () => {
      const existing = new Set(await this.#admin.listTopics());
      const missing = topics.filter((topic) => !existing.has(this.#prefix + topic.name));
      if (missing.length > 0) {
        await this.#admin
          .createTopics({
            topics: missing.map((topic) => ({
              topic: this.#prefix + topic.name,
              partitions: topic.partitions,
              replicas: this.#options.replicationFactor,
            })),
          })
          .catch((error: unknown) => {
            // Another client created it between our listing and our request: that is what we wanted.
            if (!(error instanceof Error && /TOPIC_ALREADY_EXISTS|already exists/i.test(describeAll(error))))
              throw error;
          });
        this.#logger.info({ topics: missing }, 'created Kafka topics');
      }
      // Creation is asynchronous: wait until every partition has a leader, so producers and consumers
      // that start right after this call find the topics.
      while (!(await this.#topicsReady(names))) {
        if (Date.now() > deadline) throw new Error(`topics ${names.join(', ')} have no partition leaders yet`);
        await sleep(100);
      }
    };
    await withDeadline(work(), this.#options.requestTimeoutMs, () => this.#unavailable('ensureTopics')).catch(
      (error: unknown) => {
        throw mapKafkaError(error, context);
      },
    );
  }

  async publish(records: readonly PublishRecord[]): Promise<void> {
    this.#assertOpen();
    records.forEach((record, i) => {
      if (typeof record.topic !== 'string' || !topicNamePattern.test(record.topic)) {
        throw validationError(`records[${i}].topic`, 'is not a valid Kafka topic name');
      }
      if (typeof record.key !== 'string') throw validationError(`records[${i}].key`, 'must be a string');
      const parsed = eventEnvelopeSchema.safeParse(record.value);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const path = issue && issue.path.length > 0 ? `.${issue.path.join('.')}` : '';
        throw validationError(`records[${i}].value${path}`, issue?.message ?? 'is not a valid event envelope');
      }
    });
    if (records.length === 0) return;
    const messages = records.map((record) => ({
      topic: this.#prefix + record.topic,
      key: Buffer.from(record.key),
      value: Buffer.from(JSON.stringify(record.value)),
    }));
    const topics = [...new Set(records.map((record) => record.topic))];
    const context = { ...this.#errorContext('publish'), topics };
    await withDeadline(this.#producer.send({ messages }), this.#options.requestTimeoutMs, () =>
      this.#unavailable('publish'),
    ).catch((error: unknown) => {
      throw mapKafkaError(error, context);
    });
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.#assertOpen();
    const retry = options.retry ?? defaultRetryPolicy;
    const concurrency = options.concurrency ?? 1;
    if (options.groupId.trim() === '' || /\s/.test(options.groupId)) {
      throw validationError('groupId', 'must be a non-empty name without spaces');
    }
    if (options.topics.length === 0) throw validationError('topics', 'must name at least one topic');
    options.topics.forEach((topic, i) => {
      if (!topicNamePattern.test(topic)) throw validationError(`topics[${i}]`, 'is not a valid Kafka topic name');
    });
    if (options.deadLetterTopic !== undefined && !topicNamePattern.test(options.deadLetterTopic)) {
      throw validationError('deadLetterTopic', 'is not a valid Kafka topic name');
    }
    if (retry.maxAttempts !== undefined && options.deadLetterTopic === undefined) {
      // Without somewhere to put it, giving up on a record would lose it.
      throw validationError('retry.maxAttempts', 'needs a deadLetterTopic');
    }
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw validationError('concurrency', 'must be a positive integer');
    }
    const delivery = batchDeliveryOf(options);
    if (!Number.isInteger(delivery.maxRecords) || delivery.maxRecords < 1 || delivery.maxRecords > 10_000) {
      throw validationError('batch.maxRecords', 'must be an integer from 1 to 10000');
    }
    const subscription = new KafkaSubscription({
      brokers: this.#options.brokers,
      security: this.#security,
      clientId: `${this.#options.clientId}-consumer`,
      groupId: this.#prefix + options.groupId,
      topics: options.topics.map((topic) => this.#prefix + topic),
      namePrefix: this.#prefix,
      delivery,
      retry,
      deadLetterTopic: options.deadLetterTopic,
      limit: new ConcurrencyLimit(concurrency),
      logger: this.#logger,
      publish: (records) => this.publish(records),
      connectTimeoutMs: this.#options.connectTimeoutMs,
      requestTimeoutMs: this.#options.requestTimeoutMs,
      sessionTimeoutMs: this.#options.sessionTimeoutMs,
    });
    this.#subscriptions.add(subscription);
    const close = subscription.close.bind(subscription);
    return {
      groupId: options.groupId,
      close: async () => {
        await close();
        this.#subscriptions.delete(subscription);
      },
    };
  }

  async ping(signal?: AbortSignal): Promise<void> {
    this.#assertOpen();
    const timeoutMs = 2 * this.#options.connectTimeoutMs;
    const work = this.#admin.metadata({ topics: [], forceUpdate: true });
    await withDeadline(work, timeoutMs, (reason) => this.#unavailable('ping', reason), signal).catch(
      (error: unknown) => {
        throw mapKafkaError(error, this.#errorContext('ping'));
      },
    );
  }

  async consumerLag(groupId: string, topics?: readonly string[], signal?: AbortSignal): Promise<PartitionLag[]> {
    this.#assertOpen();
    if (groupId.trim() === '') throw validationError('groupId', 'must be a non-empty name');
    topics?.forEach((topic, i) => {
      if (!topicNamePattern.test(topic)) throw validationError(`topics[${i}]`, 'is not a valid Kafka topic name');
    });
    const context = { ...this.#errorContext('consumerLag'), ...(topics ? { topics } : {}) };
    const prefix = this.#prefix;
    const work = readKafkaConsumerLag(
      this.#admin,
      prefix + groupId,
      topics?.map((topic) => prefix + topic),
    ).then((rows) => rows.map((row) => ({ ...row, topic: row.topic.slice(prefix.length) })));
    return withDeadline(
      work,
      this.#options.requestTimeoutMs,
      (reason) => this.#unavailable('consumerLag', reason),
      signal,
    ).catch((error: unknown) => {
      throw mapKafkaError(error, context);
    });
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      await Promise.all([...this.#subscriptions].map((subscription) => subscription.close()));
      this.#subscriptions.clear();
      const timeoutMs = this.#options.requestTimeoutMs;
      for (const client of [this.#producer, this.#admin]) {
        await withDeadline(client.close(), timeoutMs, () => new Error('timed out')).catch((error: unknown) => {
          this.#logger.warn({ err: error }, 'a Kafka client did not close cleanly');
        });
      }
    })();
    return this.#closed;
  }

  async #topicsReady(names: string[]): Promise<boolean> {
    const metadata = await this.#admin.metadata({ topics: names, forceUpdate: true }).catch(() => undefined);
    return (
      metadata !== undefined &&
      names.every((name) => {
        const topic = metadata.topics.get(name);
        return topic !== undefined && topic.partitions.length > 0 && topic.partitions.every((p) => p && p.leader >= 0);
      })
    );
  }

  #errorContext(operation: string): KafkaErrorContext {
    return { brokers: this.#options.brokers, operation, security: this.#securityLabel };
  }

  #unavailable(operation: string, reason: 'timeout' | 'aborted' = 'timeout'): EnsembleError {
    const brokers = this.#options.brokers.join(',');
    const why = reason === 'aborted' ? 'was aborted' : 'timed out';
    return new EnsembleError('event_bus_unavailable', `Kafka at ${brokers} is unavailable: ${operation} ${why}`, {
      details: { brokers: [...this.#options.brokers], operation },
    });
  }

  #assertOpen(): void {
    if (this.#closed) throw new EnsembleError('shutting_down', 'the Kafka event bus is closed');
  }
}

function describeAll(error: Error): string {
  const nested =
    error instanceof AggregateError ? error.errors.map((e) => (e instanceof Error ? describeAll(e) : '')) : [];
  const cause = error.cause instanceof Error ? describeAll(error.cause) : '';
  const apiId = 'apiId' in error && typeof error.apiId === 'string' ? error.apiId : '';
  return [error.message, apiId, cause, ...nested].join(' ');
}
