import {
  type BatchDelivery,
  type BusMessage,
  type DeadLetter,
  deadLetterRecord,
  type EventEnvelope,
  eventEnvelopeSchema,
  type Logger,
  type PublishRecord,
  type RetryPolicy,
  retryDelayMs,
} from '@ensemble/core';
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../postgres/database-schema.ts';
import { jitter, pause } from '../postgres/pause.ts';
import { commitOffset, readCommittedOffset, readRecords, type StoredRecord } from './bus-log.ts';
import type { Semaphore } from './semaphore.ts';
import { WakeSignal } from './wake-signal.ts';

export interface PartitionConsumerOptions {
  db: Kysely<DatabaseSchema>;
  groupId: string;
  topic: string;
  partition: number;
  delivery: BatchDelivery;
  retry: RetryPolicy;
  deadLetterTopic: string | undefined;
  publish: (records: readonly PublishRecord[]) => Promise<void>;
  semaphore: Semaphore;
  pollIntervalMs: number;
  batchSize: number;
  logger: Logger;
}

/** Backoff after a database error while fetching or committing. */
const storageRetry: RetryPolicy = { initialDelayMs: 200, maxDelayMs: 5_000 };

/**
 * Handles one partition for one group, in order: fetch a batch from the committed position, hand its
 * records to the handler one by one or in runs of up to `maxRecords` (retrying with backoff,
 * dead-lettering when told to), commit. Runs while its subscription holds the partition's lock.
 */
export class PartitionConsumer {
  readonly topic: string;
  readonly partition: number;
  readonly #options: PartitionConsumerOptions;
  readonly #logger: Logger;
  readonly #wake = new WakeSignal();
  /** Aborted to stop fetching and waiting; an in-flight handler is let finish. */
  readonly #stop = new AbortController();
  /** Passed to handlers; aborted only when the partition is lost or a close runs out of time. */
  readonly #cancel = new AbortController();
  #done: Promise<void> = Promise.resolve();
  /** Next offset to hand out, and what the database has as committed. */
  #position: bigint | undefined;
  #committed: bigint | undefined;

  constructor(options: PartitionConsumerOptions) {
    this.#options = options;
    this.topic = options.topic;
    this.partition = options.partition;
    this.#logger = options.logger.child({ topic: options.topic, partition: options.partition });
  }

  start(): void {
    this.#done = this.#run().catch((error: unknown) => {
      this.#logger.error({ err: String(error) }, 'a partition consumer stopped unexpectedly');
    });
  }

  wake(): void {
    this.#wake.notify();
  }

  /**
   * Stops after the record in hand and commits. `cancelHandler` also aborts the handler's signal,
   * for when another consumer may already own the partition.
   */
  async stop(cancelHandler = false): Promise<void> {
    this.#stop.abort();
    if (cancelHandler) this.#cancel.abort();
    await this.#done;
  }

  cancelHandler(): void {
    this.#cancel.abort();
  }

  async #run(): Promise<void> {
    const { db, groupId, topic, partition, batchSize, pollIntervalMs } = this.#options;
    const stop = this.#stop.signal;
    let failures = 0;
    while (!stop.aborted) {
      try {
        if (this.#position === undefined) {
          this.#committed = await readCommittedOffset(db, groupId, topic, partition);
          this.#position = this.#committed;
        }
        const generation = this.#wake.generation;
        const limit = Math.max(batchSize, this.#options.delivery.maxRecords);
        const records = await readRecords(db, topic, partition, this.#position, limit);
        failures = 0;
        if (records.length === 0) {
          await this.#wake.wait(generation, jitter(pollIntervalMs), stop);
          continue;
        }
        for (let next = 0; next < records.length; ) {
          const dealt = await this.#deliverFrom(records, next);
          if (dealt === 0) break;
          next += dealt;
          this.#position = (records[next - 1] as StoredRecord).offset + 1n;
        }
        await this.#commit();
      } catch (error) {
        failures++;
        this.#logger.warn({ err: String(error), failures }, 'the event bus could not read or commit; backing off');
        await pause(retryDelayMs(storageRetry, Math.min(failures, 10)), stop);
      }
    }
    await this.#commit().catch((error: unknown) => {
      this.#logger.warn({ err: String(error) }, 'could not commit on stop; the records will be delivered again');
    });
  }

  async #commit(): Promise<void> {
    const position = this.#position;
    if (position === undefined || this.#committed === undefined || position <= this.#committed) return;
    const { db, groupId, topic, partition } = this.#options;
    await commitOffset(db, groupId, topic, partition, position);
    this.#committed = position;
  }

  /**
   * Deals with the records from `first` on: an invalid one alone (dead-lettered or skipped), else the
   * run of valid ones that follows, up to `maxRecords`, handed over together. Returns how many were
   * dealt with (handled, dead-lettered or skipped); 0 when stopped first.
   */
  async #deliverFrom(records: readonly StoredRecord[], first: number): Promise<number> {
    const head = records[first] as StoredRecord;
    const parsed = parseEnvelope(head.value);
    if (!parsed.ok) {
      if (!this.#options.deadLetterTopic) {
        this.#logger.error({ offset: head.offset.toString(), err: parsed.error }, 'skipping an invalid record');
        return 1;
      }
      return (await this.#deadLetter(head, 'invalid_envelope', parsed.error, 0, head.value)) ? 1 : 0;
    }
    const { delivery, retry, deadLetterTopic, semaphore, topic, partition } = this.#options;
    const run: Array<{ record: StoredRecord; envelope: EventEnvelope }> = [{ record: head, envelope: parsed.value }];
    for (let i = first + 1; i < records.length && run.length < delivery.maxRecords; i++) {
      const record = records[i] as StoredRecord;
      const next = parseEnvelope(record.value);
      if (!next.ok) break;
      run.push({ record, envelope: next.value });
    }
    const stop = this.#stop.signal;
    for (let attempt = 1; ; attempt++) {
      if (!(await semaphore.acquire(stop))) return 0;
      let failure: unknown;
      try {
        const messages: BusMessage[] = run.map(({ record, envelope }) => ({
          topic,
          partition,
          offset: record.offset.toString(),
          key: record.key,
          value: envelope,
          attempt,
        }));
        await delivery.handler(messages, this.#cancel.signal);
        return run.length;
      } catch (error) {
        failure = error;
      } finally {
        semaphore.release();
      }
      const reason = failure instanceof Error ? failure.message : String(failure);
      if (deadLetterTopic && retry.maxAttempts !== undefined && attempt >= retry.maxAttempts) {
        for (const { record, envelope } of run) {
          // Stopped part-way: what was dead-lettered stays so, the rest comes again.
          if (!(await this.#deadLetter(record, 'handler_failed', reason, attempt, envelope))) return 0;
          this.#position = record.offset + 1n;
        }
        return run.length;
      }
      this.#logger.warn(
        { offset: head.offset.toString(), records: run.length, attempt, err: reason },
        'a handler failed; retrying',
      );
      // Keep what was handled before these records, in case the wait ends in a close or a crash.
      await this.#commit().catch(() => undefined);
      await pause(retryDelayMs(retry, attempt), stop);
      if (stop.aborted) return 0;
    }
  }

  async #deadLetter(
    record: StoredRecord,
    reason: DeadLetter['reason'],
    error: string,
    attempts: number,
    original: unknown,
  ): Promise<boolean> {
    const { topic, partition, deadLetterTopic, publish } = this.#options;
    const letter: DeadLetter = {
      topic,
      partition,
      offset: record.offset.toString(),
      key: record.key,
      reason,
      error,
      attempts,
      original,
    };
    const deadLetter = deadLetterRecord(deadLetterTopic as string, letter);
    const stop = this.#stop.signal;
    for (let failures = 1; !stop.aborted; failures++) {
      try {
        await publish([deadLetter]);
        this.#logger.warn({ offset: letter.offset, reason, deadLetterTopic }, 'dead-lettered a record');
        return true;
      } catch (publishError) {
        this.#logger.warn({ err: String(publishError) }, 'could not dead-letter a record; retrying');
        await pause(retryDelayMs(storageRetry, Math.min(failures, 10)), stop);
      }
    }
    return false;
  }
}

type Parsed = { ok: true; value: EventEnvelope } | { ok: false; error: string };

function parseEnvelope(text: string): Parsed {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `not JSON: ${(error as Error).message}` };
  }
  const result = eventEnvelopeSchema.safeParse(json);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => `${issue.path.join('.') || 'value'}: ${issue.message}`);
    return { ok: false, error: `not a valid event envelope: ${issues.join('; ')}` };
  }
  return { ok: true, value: json as EventEnvelope };
}
