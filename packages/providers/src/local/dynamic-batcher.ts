export interface DynamicBatcherOptions<I, O> {
  /** How long the first request of a batch waits for company. */
  windowMs: number;
  /** Items per batch; reaching it sends the batch at once. */
  maxBatchSize: number;
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

  constructor(options: DynamicBatcherOptions<I, O>) {
    this.options = options;
  }

  submit(items: I[]): Promise<O[]> {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise<O[]>((resolve, reject) => {
      this.waiting.push({ items, resolve, reject });
      this.waitingItems += items.length;
      if (this.waitingItems >= this.options.maxBatchSize) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.options.windowMs);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.waiting.length > 0) {
      // Whole requests only, up to the batch size (a request larger than it goes alone).
      const batch: Waiting<I, O>[] = [];
      let size = 0;
      while (this.waiting.length > 0) {
        const next = this.waiting[0] as Waiting<I, O>;
        if (batch.length > 0 && size + next.items.length > this.options.maxBatchSize) break;
        batch.push(next);
        size += next.items.length;
        this.waiting.shift();
      }
      this.waitingItems -= size;
      void this.runBatch(batch);
      if (this.waitingItems < this.options.maxBatchSize) break;
    }
    if (this.waiting.length > 0) this.timer = setTimeout(() => this.flush(), this.options.windowMs);
  }

  private async runBatch(batch: Waiting<I, O>[]): Promise<void> {
    try {
      const outputs = await this.options.run(batch.flatMap((waiting) => waiting.items));
      let offset = 0;
      for (const waiting of batch) {
        waiting.resolve(outputs.slice(offset, offset + waiting.items.length));
        offset += waiting.items.length;
      }
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
    }
  }
}
