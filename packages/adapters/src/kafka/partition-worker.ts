import {
  type DeadLetter,
  deadLetterRecord,
  type EventEnvelope,
  type Logger,
  type MessageHandler,
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
  handler: MessageHandler;
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
 * Handles the records of one partition one after another: decode, call the handler with retries and
 * backoff, dead-letter when allowed, and commit each offset only after its record is done. Records the
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
      const message = this.#queue[0];
      if (!message) break;
      await this.#process(message);
      if (this.#stop.signal.aborted) break;
      this.#queue.shift();
      this.#options.onProgress();
    }
    this.#running = undefined;
  }

  async #process(message: KafkaMessage): Promise<void> {
    const { topic, partition, handler, retry, deadLetterTopic, limit } = this.#options;
    const signal = this.#stop.signal;
    const key = message.key?.toString('utf8') ?? '';
    const offset = message.offset.toString();
    const decoded = decodeRecord(message.value);
    if (!decoded.valid) {
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
        if (!(await this.#deadLetter(deadLetterTopic, letter))) return;
      }
      this.#commit(message);
      return;
    }
    const envelope: EventEnvelope = decoded.envelope;
    for (let attempt = 1; ; attempt++) {
      if (!(await limit.acquire(signal))) return;
      let failure: unknown;
      let succeeded = false;
      try {
        await handler({ topic, partition, offset, key, value: envelope, attempt }, signal);
        succeeded = true;
      } catch (error) {
        failure = error;
      } finally {
        limit.release();
      }
      if (succeeded) {
        this.#stalled = false;
        this.#commit(message);
        return;
      }
      if (!this.#stalled) {
        this.#stalled = true;
        this.#options.onProgress();
      }
      // Closing or rebalanced away: leave the record uncommitted for the next consumer.
      if (signal.aborted) return;
      const error = failure instanceof Error ? failure.message : String(failure);
      if (retry.maxAttempts !== undefined && attempt >= retry.maxAttempts && deadLetterTopic !== undefined) {
        this.#logger.error(
          { offset, key, attempt, error },
          'handler failed for the last time; dead-lettering the record',
        );
        const letter: DeadLetter = {
          ...{ topic, partition, offset, key },
          ...{ reason: 'handler_failed', error, attempts: attempt, original: envelope },
        };
        if (await this.#deadLetter(deadLetterTopic, letter)) this.#commit(message);
        this.#stalled = false;
        return;
      }
      const waitMs = retryDelayMs(retry, attempt);
      this.#logger.warn({ offset, key, attempt, error, retryInMs: waitMs }, 'handler failed; retrying');
      await sleep(waitMs, signal);
      if (signal.aborted) return;
    }
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
