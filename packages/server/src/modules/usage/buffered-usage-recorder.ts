import {
  createEvent,
  type EventBus,
  type Logger,
  type PublishRecord,
  type RetryPolicy,
  retryDelayMs,
  silentLogger,
  topics,
  type UsageEvent,
  type UsageRecorder,
  usageRecordedEventType,
} from '@ensemble/core';

export interface BufferedUsageRecorderOptions {
  bus: Pick<EventBus, 'publish'>;
  logger?: Logger;
  topic?: string;
  /** The most events held (waiting or being published); beyond it new ones are dropped and counted. Default 100,000. */
  maxBuffered?: number;
  /** Events per publish; a full batch goes out at once. Default 500. */
  batchSize?: number;
  /** How long a partial batch waits for more. Default 200 ms. */
  lingerMs?: number;
  /** Backoff between failed publishes. Default 250 ms doubling to 10 s. */
  retry?: RetryPolicy;
  /** One publish call is abandoned (and retried) after this. Default 10 s. */
  publishTimeoutMs?: number;
}

/** What the recorder has done since it started, for `/metrics`. */
export interface UsageRecorderStats {
  recorded: number;
  published: number;
  /** Events refused because the buffer was full, or left unpublished when a shutdown flush ran out of time. */
  dropped: number;
  publishFailures: number;
  buffered: number;
}

/**
 * The gateway's `UsageRecorder`: `record` pushes onto an array and returns (no I/O, no promise, no
 * throw). Batches go to `ensemble.usage` when one is full or `lingerMs` after the first event of a
 * partial one, one publish at a time, each event as a `usage/call.recorded` envelope keyed by project.
 * A failed publish is retried with backoff, with the same envelopes (the ledger drops what it already
 * has); meanwhile events keep buffering up to `maxBuffered`, past which they are dropped and counted,
 * so a bus outage costs memory up to a bound and never time on the request path.
 */
export class BufferedUsageRecorder implements UsageRecorder {
  readonly #bus: Pick<EventBus, 'publish'>;
  readonly #logger: Logger;
  readonly #topic: string;
  readonly #maxBuffered: number;
  readonly #batchSize: number;
  readonly #lingerMs: number;
  readonly #retry: RetryPolicy;
  readonly #publishTimeoutMs: number;
  /** Events not yet in a batch. */
  #waiting: UsageEvent[] = [];
  /** The batch being published, or waiting to be retried: always the same envelopes. */
  #batch: PublishRecord<UsageEvent>[] | undefined;
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  #pumping: Promise<void> | undefined;
  #closed = false;
  readonly #stats = { recorded: 0, published: 0, dropped: 0, publishFailures: 0 };
  #lastDropWarning = 0;

  constructor(options: BufferedUsageRecorderOptions) {
    this.#bus = options.bus;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'usage-recorder' });
    this.#topic = options.topic ?? topics.usage;
    this.#maxBuffered = options.maxBuffered ?? 100_000;
    this.#batchSize = options.batchSize ?? 500;
    this.#lingerMs = options.lingerMs ?? 200;
    this.#retry = options.retry ?? { initialDelayMs: 250, maxDelayMs: 10_000 };
    this.#publishTimeoutMs = options.publishTimeoutMs ?? 10_000;
  }

  record(event: UsageEvent): void {
    if (this.#closed || this.#waiting.length + (this.#batch?.length ?? 0) >= this.#maxBuffered) {
      this.#drop(1);
      return;
    }
    this.#waiting.push(event);
    this.#stats.recorded++;
    if (this.#pumping !== undefined || this.#failures > 0) return;
    if (this.#waiting.length >= this.#batchSize) this.#schedule(0);
    else if (this.#timer === undefined) this.#schedule(this.#lingerMs);
  }

  stats(): UsageRecorderStats {
    return { ...this.#stats, buffered: this.#waiting.length + (this.#batch?.length ?? 0) };
  }

  /**
   * Publishes everything buffered now, retrying failures without waiting out the backoff, within
   * `timeoutMs`; what is left then is counted as dropped. Records arriving meanwhile go too.
   */
  async flush(timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    let attempt = 0;
    while (this.#waiting.length > 0 || this.#batch !== undefined) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      await this.#pumpOnce(Math.min(left, this.#publishTimeoutMs));
      if (this.#batch !== undefined) {
        attempt++;
        await new Promise((resolve) =>
          setTimeout(resolve, Math.min(retryDelayMs(this.#retry, attempt), Math.max(0, deadline - Date.now()))),
        );
      }
    }
    const left = this.stats().buffered;
    if (left > 0) {
      this.#logger.error({ lost: left, timeoutMs }, 'usage events could not be published before the deadline');
      this.#drop(left);
      this.#waiting = [];
      this.#batch = undefined;
    }
    if (!this.#closed && this.#waiting.length > 0) this.#schedule(this.#lingerMs);
  }

  /** Flushes, then refuses (and counts) whatever is recorded later. */
  async close(timeoutMs = 5_000): Promise<void> {
    await this.flush(timeoutMs);
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(delayMs: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#pump();
    }, delayMs);
    // Never what keeps a process alive; shutdown calls flush.
    this.#timer.unref();
  }

  /** Publishes batches while full ones are waiting; then waits for the linger, or backs off after a failure. */
  async #pump(): Promise<void> {
    if (this.#pumping !== undefined) return;
    for (;;) {
      await this.#pumpOnce(this.#publishTimeoutMs);
      if (this.#batch !== undefined) {
        this.#schedule(retryDelayMs(this.#retry, Math.min(this.#failures, 20)));
        return;
      }
      if (this.#waiting.length >= this.#batchSize) continue;
      if (this.#waiting.length > 0) this.#schedule(this.#lingerMs);
      return;
    }
  }

  /** One publish of the pending batch (or a new one); leaves `#batch` set when it failed. */
  async #pumpOnce(timeoutMs: number): Promise<void> {
    if (this.#pumping !== undefined) {
      await this.#pumping;
      return;
    }
    this.#batch ??= this.#nextBatch();
    if (this.#batch.length === 0) {
      this.#batch = undefined;
      return;
    }
    const batch = this.#batch;
    this.#pumping = (async () => {
      try {
        await withTimeout(this.#bus.publish(batch), timeoutMs);
        this.#stats.published += batch.length;
        this.#batch = undefined;
        if (this.#failures > 0) this.#logger.info({ failures: this.#failures }, 'usage events are published again');
        this.#failures = 0;
      } catch (error) {
        this.#failures++;
        this.#stats.publishFailures++;
        // Once per outage at warn, then quietly: the counter tells the rest.
        const log = this.#failures === 1 ? this.#logger.warn : this.#logger.debug;
        log.call(
          this.#logger,
          { err: error, events: batch.length, failures: this.#failures },
          'could not publish usage events; retrying',
        );
      }
    })();
    try {
      await this.#pumping;
    } finally {
      this.#pumping = undefined;
    }
  }

  #nextBatch(): PublishRecord<UsageEvent>[] {
    const events = this.#waiting.length <= this.#batchSize ? this.#waiting : this.#waiting.slice(0, this.#batchSize);
    this.#waiting = events === this.#waiting ? [] : this.#waiting.slice(this.#batchSize);
    return events.map((event) => ({
      topic: this.#topic,
      key: event.projectId,
      // The request id is the trace: a ledger row leads to the request's log lines.
      value: createEvent({
        type: usageRecordedEventType,
        projectId: event.projectId,
        traceId: event.requestId,
        data: event,
      }),
    }));
  }

  #drop(count: number): void {
    this.#stats.dropped += count;
    const now = Date.now();
    if (now - this.#lastDropWarning > 10_000) {
      this.#lastDropWarning = now;
      this.#logger.warn(
        { dropped: this.#stats.dropped, maxBuffered: this.#maxBuffered },
        'usage events dropped: the buffer is full (is the event bus reachable?)',
      );
    }
  }
}

function withTimeout(work: Promise<void>, timeoutMs: number): Promise<void> {
  work.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the event bus within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
