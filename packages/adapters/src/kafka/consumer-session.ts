import type { BatchDelivery, Logger, PublishRecord, RetryPolicy } from '@ensemble/core';
import { Consumer, type MessagesStream } from '@platformatic/kafka';
import type { ConcurrencyLimit } from './concurrency-limit.ts';
import type { KafkaClientSecurity } from './kafka-security.ts';
import { type KafkaMessage, PartitionWorker } from './partition-worker.ts';
import { withDeadline } from './with-deadline.ts';

export interface ConsumerSessionOptions {
  brokers: readonly string[];
  /** TLS and SASL client options, shared with the bus's producer and admin. */
  security: KafkaClientSecurity;
  clientId: string;
  groupId: string;
  topics: readonly string[];
  /** The bus's prefix of topic and group names; handlers and dead letters see names without it. */
  namePrefix: string;
  delivery: BatchDelivery;
  retry: RetryPolicy;
  deadLetterTopic: string | undefined;
  limit: ConcurrencyLimit;
  logger: Logger;
  publish(records: readonly PublishRecord[]): Promise<void>;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  sessionTimeoutMs: number;
}

/**
 * Fetching pauses when the partitions that are moving have this many records queued, and resumes at
 * `resumeBelow`. A partition stuck retrying one record does not count, so the others keep flowing,
 * until everything queued reaches `hardLimit` (the stream cannot pause a single partition).
 */
const pauseAbove = 500;
const resumeBelow = 100;
const hardLimit = 5_000;

/**
 * One membership in a consumer group: a client, its message stream and a worker per assigned
 * partition. It lasts until the stream fails (the broker went away, the group fenced it) or it is
 * stopped; the subscription then starts a fresh session, which resumes from the committed offsets.
 */
export class ConsumerSession {
  readonly #options: ConsumerSessionOptions;
  readonly #logger: Logger;
  readonly #consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;
  readonly #workers = new Map<string, PartitionWorker>();
  #stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  #joining: Promise<unknown> | undefined;
  #stopped = false;
  #paused = false;
  #endSession: ((reason: Error | undefined) => void) | undefined;
  readonly #ended: Promise<Error | undefined>;

  constructor(options: ConsumerSessionOptions) {
    this.#options = options;
    this.#logger = options.logger;
    this.#ended = new Promise((resolve) => {
      this.#endSession = resolve;
    });
    this.#consumer = new Consumer({
      ...options.security,
      clientId: options.clientId,
      groupId: options.groupId,
      bootstrapBrokers: [...options.brokers],
      connectTimeout: options.connectTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
      timeout: options.requestTimeoutMs,
      retries: 3,
      retryDelay: 300,
      autocommit: false,
      sessionTimeout: options.sessionTimeoutMs,
      rebalanceTimeout: Math.max(options.sessionTimeoutMs, 30_000),
      heartbeatInterval: Math.min(1_000, Math.floor(options.sessionTimeoutMs / 3)),
      // Short long-polls keep close() and rebalances quick; records still arrive as soon as written.
      maxWaitTime: 1_000,
      highWaterMark: 256,
    });
    // An 'error' event without a listener would crash the process; a failed client ends the session.
    this.#consumer.on('error', (error: Error) => this.#end(error));
    this.#consumer.on('consumer:group:join', () => this.#onAssignment());
  }

  /** Joins the group and consumes until the stream fails or `signal` aborts; resolves with the failure. */
  async run(signal: AbortSignal): Promise<Error | undefined> {
    const onAbort = () => this.#end(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const joining = this.#consumer.consume({
        topics: [...this.#options.topics],
        autocommit: false,
        mode: 'committed',
        fallbackMode: 'earliest',
      });
      this.#joining = joining.then(
        (stream) => this.#attach(stream),
        () => {},
      );
      const joined = await Promise.race([joining, this.#ended]);
      if (!joined || joined instanceof Error) return joined;
      this.#logger.debug({ assignments: this.#consumer.assignments }, 'joined the consumer group');
      return await this.#ended;
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Stops fetching, waits for in-flight handlers, commits, and leaves the group (each step bounded). */
  async stop(): Promise<void> {
    this.#end(undefined);
    this.#stopped = true;
    const timeoutMs = this.#options.requestTimeoutMs;
    const gone = () => new Error('timed out');
    // Let a join in progress finish, so the group sees this member leave instead of waiting for its
    // session to expire before the next member can join.
    if (this.#joining) await withDeadline(this.#joining, timeoutMs, gone).catch(() => {});
    this.#stream?.pause();
    await Promise.all([...this.#workers.values()].map((worker) => worker.stop()));
    this.#workers.clear();
    if (this.#stream) {
      // Closing the stream flushes offsets still queued for commit.
      await withDeadline(this.#stream.close(), timeoutMs, gone).catch((error: unknown) => {
        this.#logger.warn({ err: error }, 'the message stream did not close cleanly');
      });
    }
    await withDeadline(this.#consumer.close(true), timeoutMs, gone).catch((error: unknown) => {
      this.#logger.warn({ err: error }, 'the consumer did not leave its group cleanly');
    });
  }

  #attach(stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>): void {
    this.#stream = stream;
    if (this.#stopped) return;
    stream.on('error', (error: Error) => this.#end(error));
    stream.on('close', () => this.#end(new Error('the message stream closed')));
    stream.on('data', (message: KafkaMessage) => this.#dispatch(message));
  }

  #dispatch(message: KafkaMessage): void {
    const key = `${message.topic}:${message.partition}`;
    let worker = this.#workers.get(key);
    if (!worker) {
      if (!this.#owns(message.topic, message.partition)) return;
      worker = this.#createWorker(message.topic, message.partition);
      this.#workers.set(key, worker);
    }
    worker.offer(message);
    if (this.#paused) return;
    const { moving, total } = this.#backlog();
    if (moving >= pauseAbove || total >= hardLimit) {
      this.#paused = true;
      this.#stream?.pause();
    }
  }

  #createWorker(topic: string, partition: number): PartitionWorker {
    const { delivery, retry, deadLetterTopic, limit, publish, requestTimeoutMs } = this.#options;
    return new PartitionWorker({
      ...{ topic: topic.slice(this.#options.namePrefix.length), partition, delivery, retry, deadLetterTopic },
      ...{ limit, publish },
      logger: this.#logger,
      owns: () => this.#owns(topic, partition),
      onProgress: () => this.#maybeResume(),
      commitTimeoutMs: requestTimeoutMs,
    });
  }

  #maybeResume(): void {
    if (!this.#paused || this.#stopped) return;
    const { moving, total } = this.#backlog();
    if (moving <= resumeBelow && total < hardLimit) {
      this.#paused = false;
      this.#stream?.resume();
    }
  }

  /** After a rebalance, partitions that moved away finish their in-flight record and are dropped. */
  #onAssignment(): void {
    for (const [key, worker] of this.#workers) {
      const [topic, partition] = splitKey(key);
      if (this.#owns(topic, partition)) continue;
      this.#workers.delete(key);
      worker.stop().catch(() => {});
    }
    this.#maybeResume();
    this.#logger.debug({ assignments: this.#consumer.assignments }, 'partitions assigned');
  }

  #owns(topic: string, partition: number): boolean {
    const assignment = this.#consumer.assignments?.find((a) => a.topic === topic);
    return assignment?.partitions.includes(partition) ?? false;
  }

  #backlog(): { moving: number; total: number } {
    let moving = 0;
    let total = 0;
    for (const worker of this.#workers.values()) {
      total += worker.queued;
      if (!worker.stalled) moving += worker.queued;
    }
    return { moving, total };
  }

  #end(reason: Error | undefined): void {
    const end = this.#endSession;
    this.#endSession = undefined;
    end?.(reason);
  }
}

function splitKey(key: string): [string, number] {
  const at = key.lastIndexOf(':');
  return [key.slice(0, at), Number(key.slice(at + 1))];
}
