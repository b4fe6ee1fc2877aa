import type { JobPriority } from '@ensemble/core';

/**
 * The model calls one worker process makes at once, over all its partitions and jobs. Waiting calls
 * of `high` priority jobs are served before `normal` ones; within a priority, in arrival order.
 */
export class ItemSlots {
  readonly #limit: number;
  #inUse = 0;
  readonly #waiting: Record<JobPriority, Array<() => void>> = { high: [], normal: [] };

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error('the item concurrency must be a positive integer');
    this.#limit = limit;
  }

  get inUse(): number {
    return this.#inUse;
  }

  /** Resolves true once a slot is held, or false if `signal` aborts first (no slot is held then). */
  acquire(priority: JobPriority, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    if (this.#inUse < this.#limit && this.#waiting.high.length === 0 && this.#waiting.normal.length === 0) {
      this.#inUse++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const queue = this.#waiting[priority];
      const grant = () => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      };
      const onAbort = () => {
        const at = queue.indexOf(grant);
        if (at >= 0) queue.splice(at, 1);
        resolve(false);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      queue.push(grant);
    });
  }

  release(): void {
    const next = this.#waiting.high.shift() ?? this.#waiting.normal.shift();
    // The slot passes straight to the next waiter: the count stays.
    if (next !== undefined) next();
    else this.#inUse--;
  }
}
