import {
  type BatchDelivery,
  type BusMessage,
  type DeadLetter,
  deadLetterRecord,
  type EventEnvelope,
  type Logger,
  type PublishRecord,
  type RetryPolicy,
  retryDelayMs,
} from '@ensemble/core';
import type { Message } from '@platformatic/kafka';
import type { ConcurrencyLimit } from './concurrency-limit.ts';
import { decodeRecord } from './decode-record.ts';
import { sleep, withDeadline } from './with-deadline.ts';

export type KafkaMessage = Message<Buffer, Buffer, Buffer, Buffer>;

export interface PartitionWorkerOptions {
  topic: string;
  partition: number;
  delivery: BatchDelivery;
  retry: RetryPolicy;
  deadLetterTopic: string | undefined;
  /** Shared by the partitions of one subscription: how many handlers run at once. */
  limit: ConcurrencyLimit;
  logger: Logger;
  /** Writes dead letters; rejects while the broker is away. */
  publish(records: readonly PublishRecord[]): Promise<void>;
  /** False once a rebalance moved the partition away: its late results are not committed. */
  owns(): boolean;
  /** Called when a record leaves the queue or the queue stalls, so the subscription can resume fetching. */
  onProgress(): void;
  commitTimeoutMs: number;
}

const deadLetterRetry: RetryPolicy = { initialDelayMs: 200, maxDelayMs: 5_000 };

/**
 * Handles the records of one partition in order: decode, call the handler (one record at a time, or
 * runs of up to `maxRecords` queued records) with retries and backoff, dead-letter when allowed, and
 * commit each offset only after its records are done. Records the
 * client delivers twice (it re-fetches from the committed offset after a rebalance) are dropped.
 */
export class PartitionWorker {
  readonly #options: PartitionWorkerOptions;
  readonly #logger: Logger;
  readonly #queue: KafkaMessage[] = [];
  readonly #stop = new AbortController();
  readonly #commits = new Set<Promise<void>>();
  #nextOffset = -1n;
  #running: Promise<void> | undefined;
  #stalled = false;

  constructor(options: PartitionWorkerOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ topic: options.topic, partition: options.partition });
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** True while the record at the head has failed and is being retried: this queue is not moving. */
  get stalled(): boolean {
    return this.#stalled;
  }

  offer(message: KafkaMessage): void {
    if (this.#stop.signal.aborted || message.offset < this.#nextOffset) return;
    this.#nextOffset = message.offset + 1n;
    this.#queue.push(message);
    this.#running ??= this.#drain();
  }

  /** Stops after the in-flight handler (its signal is aborted), drops the queue, and flushes commits. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
    this.#queue.length = 0;
    const commits = Promise.allSettled([...this.#commits]).then(() => undefined);
    await withDeadline(commits, this.#options.commitTimeoutMs, () => new Error('commit timed out')).catch(() => {
      this.#logger.warn({}, 'offset commits did not finish before the partition was released');
    });
  }

  async #drain(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      if (this.#queue.length === 0) break;
      const dealt = await this.#processHead();
      if (this.#stop.signal.aborted) break;
      this.#queue.splice(0, dealt);
      this.#options.onProgress();
    }
    this.#running = undefined;
  }

  /**
   * Deals with the head of the queue: an invalid record alone, else the run of valid records behind it
   * (up to `maxRecords`) handed over together. Returns how many records left the queue's head.
   */
  async #processHead(): Promise<number> {
    const { topic, partition, delivery, retry, deadLetterTopic, limit } = this.#options;
    const signal = this.#stop.signal;
    const head = this.#queue[0] as KafkaMessage;
    const decoded = decodeRecord(head.value);
    if (!decoded.valid) {
      const key = head.key?.toString('utf8') ?? '';
      const offset = head.offset.toString();
      if (deadLetterTopic === undefined) {
        this.#logger.error(
          { offset, key, error: decoded.error },
          'skipping a record that is not a valid event envelope',
        );
      } else {
        const letter: DeadLetter = {
          ...{ topic, partition, offset, key },
          ...{ reason: 'invalid_envelope', error: decoded.error, attempts: 0, original: decoded.raw },
        };
        if (!(await this.#deadLetter(deadLetterTopic, letter))) return 1;
      }
      this.#commit(head);
      return 1;
    }
    let run: Array<{ message: KafkaMessage; envelope: EventEnvelope }> | undefined;
    for (let attempt = 1; ; attempt++) {
      if (!(await limit.acquire(signal))) return 0;
      // Taken after the first wait, so the records of the fetch that woke this worker are queued too.
      run ??= this.#runFrom(head, decoded.envelope);
      let failure: unknown;
      let succeeded = false;
      try {
        const messages: BusMessage[] = run.map(({ message, envelope }) => ({
          topic,
          partition,
          offset: message.offset.toString(),
          key: message.key?.toString('utf8') ?? '',
          value: envelope,
          attempt,
        }));
        await delivery.handler(messages, signal);
        succeeded = true;
      } catch (error) {
        failure = error;
      } finally {
        limit.release();
      }
      if (succeeded) {
        this.#stalled = false;
        this.#commit((run[run.length - 1] as (typeof run)[number]).message);
        return run.length;
      }
      if (!this.#stalled) {
        this.#stalled = true;
        this.#options.onProgress();
      }
      // Closing or rebalanced away: leave the records uncommitted for the next consumer.
      if (signal.aborted) return run.length;
      const error = failure instanceof Error ? failure.message : String(failure);
      const offset = head.offset.toString();
      if (retry.maxAttempts !== undefined && attempt >= retry.maxAttempts && deadLetterTopic !== undefined) {
        this.#logger.error(
          { offset, records: run.length, attempt, error },
          'handler failed for the last time; dead-lettering its records',
        );
        for (const { message, envelope } of run) {
          const letter: DeadLetter = {
            ...{ topic, partition, offset: message.offset.toString(), key: message.key?.toString('utf8') ?? '' },
            ...{ reason: 'handler_failed', error, attempts: attempt, original: envelope },
          };
          if (!(await this.#deadLetter(deadLetterTopic, letter))) return run.length;
          this.#commit(message);
        }
        this.#stalled = false;
        return run.length;
      }
      const waitMs = retryDelayMs(retry, attempt);
      this.#logger.warn({ offset, records: run.length, attempt, error, retryInMs: waitMs }, 'handler failed; retrying');
      await sleep(waitMs, signal);
      if (signal.aborted) return run.length;
    }
  }

  /** The head and the valid records queued right behind it, up to `maxRecords`. */
  #runFrom(head: KafkaMessage, envelope: EventEnvelope): Array<{ message: KafkaMessage; envelope: EventEnvelope }> {
    const run = [{ message: head, envelope }];
    for (let i = 1; i < this.#queue.length && run.length < this.#options.delivery.maxRecords; i++) {
      const message = this.#queue[i] as KafkaMessage;
      const next = decodeRecord(message.value);
      if (!next.valid) break;
      run.push({ message, envelope: next.envelope });
    }
    return run;
  }

  /** Publishes the dead letter, retrying while the broker is away; false if stopped before it was written. */
  async #deadLetter(deadLetterTopic: string, letter: DeadLetter): Promise<boolean> {
    const signal = this.#stop.signal;
    for (let attempt = 1; !signal.aborted; attempt++) {
      try {
        await this.#options.publish([deadLetterRecord(deadLetterTopic, letter)]);
        return true;
      } catch (error) {
        this.#logger.error({ err: error, offset: letter.offset, deadLetterTopic }, 'could not write a dead letter');
        await sleep(retryDelayMs(deadLetterRetry, attempt), signal);
      }
    }
    return false;
  }

  #commit(message: KafkaMessage): void {
    if (!this.#options.owns()) return;
    // The client coalesces commits per partition into one request in flight, keeping the highest offset.
    const pending = Promise.resolve(message.commit())
      .catch((error: unknown) => {
        this.#logger.warn(
          { err: error, offset: message.offset.toString() },
          'offset commit failed; it will be retried',
        );
      })
      .finally(() => this.#commits.delete(pending));
    this.#commits.add(pending);
  }
}
