export interface DynamicBatcherOptions<I, O> {
  /** How long the first request of a batch waits for company. */
  windowMs: number;
  /** Items per batch; reaching it sends the batch at once. */
  maxBatchSize: number;
  /**
   * Batches the model can run at once (replicas × concurrency). While fewer are running, a request
   * goes out at once instead of waiting out the window: no added latency when idle, batches
   * form by themselves under load.
   */
  maxInFlight?: number;
  /** Runs one batch; returns one output per input, in order. */
  run(items: I[]): Promise<O[]>;
}

interface Waiting<I, O> {
  items: I[];
  resolve(outputs: O[]): void;
  reject(error: unknown): void;
}

/**
 * Gathers concurrent requests into one batch: a request waits at most `windowMs` for others, or
 * until `maxBatchSize` items are gathered. One model call over 32 texts costs far less than 32 calls.
 */
export class DynamicBatcher<I, O> {
  private readonly options: DynamicBatcherOptions<I, O>;
  private waiting: Waiting<I, O>[] = [];
  private waitingItems = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private flushQueued = false;

  constructor(options: DynamicBatcherOptions<I, O>) {
    this.options = options;
  }

  submit(items: I[]): Promise<O[]> {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise<O[]>((resolve, reject) => {
      this.waiting.push({ items, resolve, reject });
      this.waitingItems += items.length;
      if (this.waitingItems >= this.options.maxBatchSize) this.flush();
      else if (this.inFlight < (this.options.maxInFlight ?? 0)) this.flushSoon();
      else this.timer ??= setTimeout(() => this.flush(), this.options.windowMs);
    });
  }

  /** Flushes after the current tick, so that callers arriving together still share a batch. */
  private flushSoon(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => {
      this.flushQueued = false;
      this.flush();
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    // What waits is shared out over the free slots (replicas), so that callers arriving together do
    // not all ride one batch on one replica while another idles; full batches beyond that go too.
    const slots = Math.max(1, (this.options.maxInFlight ?? 1) - this.inFlight);
    const size = Math.min(this.options.maxBatchSize, Math.ceil(this.waitingItems / slots));
    let sent = 0;
    while (this.waiting.length > 0 && (sent < slots || this.waitingItems >= this.options.maxBatchSize)) {
      // Whole requests only, up to the size (a request larger than it goes alone).
      const batch: Waiting<I, O>[] = [];
      let items = 0;
      while (this.waiting.length > 0) {
        const next = this.waiting[0] as Waiting<I, O>;
        if (batch.length > 0 && items + next.items.length > size) break;
        batch.push(next);
        items += next.items.length;
        this.waiting.shift();
      }
      this.waitingItems -= items;
      sent += 1;
      void this.runBatch(batch);
    }
    if (this.waiting.length > 0) this.timer = setTimeout(() => this.flush(), this.options.windowMs);
  }

  private async runBatch(batch: Waiting<I, O>[]): Promise<void> {
    this.inFlight += 1;
    try {
      const outputs = await this.options.run(batch.flatMap((waiting) => waiting.items));
      let offset = 0;
      for (const waiting of batch) {
        waiting.resolve(outputs.slice(offset, offset + waiting.items.length));
        offset += waiting.items.length;
      }
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
    } finally {
      this.inFlight -= 1;
      // A slot is free: what gathered meanwhile goes now rather than at the end of its window.
      if (this.waiting.length > 0) this.flushSoon();
    }
  }
}
