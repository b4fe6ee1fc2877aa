/** A counting semaphore: at most `limit` holders at once, waiters served in arrival order. */
export class ConcurrencyLimit {
  readonly #limit: number;
  #holders = 0;
  readonly #waiters: Array<() => void> = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Resolves true once a slot is held, or false if `signal` aborts first (no slot is held then). */
  acquire(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    if (this.#holders < this.#limit) {
      this.#holders++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const grant = () => {
        signal.removeEventListener('abort', onAbort);
        this.#holders++;
        resolve(true);
      };
      const onAbort = () => {
        const index = this.#waiters.indexOf(grant);
        if (index >= 0) this.#waiters.splice(index, 1);
        resolve(false);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(grant);
    });
  }

  release(): void {
    this.#holders--;
    const next = this.#waiters.shift();
    if (next) next();
  }
}
