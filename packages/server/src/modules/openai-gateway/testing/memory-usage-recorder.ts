import { type UsageEvent, type UsageRecorder, usageEventSchema } from '@ensemble/core';

/** The usage port in memory, for tests: keeps every event, validated with the ledger's own schema. */
export class MemoryUsageRecorder implements UsageRecorder {
  readonly events: UsageEvent[] = [];
  #waiters: Array<{ count: number; resolve: () => void }> = [];

  record(event: UsageEvent): void {
    this.events.push(usageEventSchema.parse(event));
    this.#waiters = this.#waiters.filter((waiter) => {
      if (this.events.length < waiter.count) return true;
      waiter.resolve();
      return false;
    });
  }

  async flush(): Promise<void> {}

  /** Resolves once `count` events arrived in all (streams record after the response ends). */
  async waitFor(count: number, timeoutMs = 5_000): Promise<UsageEvent[]> {
    if (this.events.length < count) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`expected ${count} usage events, have ${this.events.length}`)),
          timeoutMs,
        );
        this.#waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    }
    return this.events;
  }
}
