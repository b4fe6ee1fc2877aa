/**
 * Wakes a sleeping poller early. `wait` takes the generation read before the poller last looked
 * for work, so a wake-up that arrives in between is not lost.
 */
export class WakeSignal {
  #generation = 0;
  #waiters = new Set<() => void>();

  get generation(): number {
    return this.#generation;
  }

  notify(): void {
    this.#generation++;
    for (const waiter of this.#waiters) waiter();
    this.#waiters.clear();
  }

  wait(since: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (since !== this.#generation || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      this.#waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
