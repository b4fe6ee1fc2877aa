import type { JobStatus, JobWorkStore } from '@ensemble/core';

/**
 * Whether a job is still worth working on, read at most once per `ttlMs` per job, so items about to
 * start notice a cancellation soon without a query each.
 */
export class CancellationWatch {
  readonly #store: Pick<JobWorkStore, 'status'>;
  readonly #ttlMs: number;
  readonly #known = new Map<string, { status: Promise<JobStatus | undefined>; at: number }>();

  constructor(store: Pick<JobWorkStore, 'status'>, ttlMs = 1_000) {
    this.#store = store;
    this.#ttlMs = ttlMs;
  }

  /** True when the job was cancelled or is gone. A failed read says no: the item runs. */
  async stopped(jobId: string): Promise<boolean> {
    const now = performance.now();
    let entry = this.#known.get(jobId);
    if (entry === undefined || now - entry.at > this.#ttlMs) {
      const status = this.#store.status(jobId).catch(() => 'running' as const);
      entry = { status, at: now };
      this.#known.set(jobId, entry);
      if (this.#known.size > 10_000) this.#known.delete(this.#known.keys().next().value as string);
    }
    const status = await entry.status;
    return status === undefined || status === 'cancelled';
  }

  /** Told by a batch that found the job cancelled or finished, so the next items skip without asking. */
  note(jobId: string, status: JobStatus | undefined): void {
    this.#known.set(jobId, { status: Promise.resolve(status), at: performance.now() });
  }
}
