/** Limits how many handlers of one subscription run at once; waiters are served in order. */
export class Semaphore {
  #free: number;
  #queue: Array<(granted: boolean) => void> = [];

  constructor(permits: number) {
    this.#free = permits;
  }

  /** Resolves true with a permit, or false if `signal` aborted first. */
  acquire(signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const onAbort = () => {
        this.#queue = this.#queue.filter((waiter) => waiter !== grant);
        resolve(false);
      };
      const grant = (granted: boolean) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(granted);
      };
      this.#queue.push(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  release(): void {
    const next = this.#queue.shift();
    if (next) next(true);
    else this.#free++;
  }
}
