import type { EffectiveLimits, LimitStore } from '@ensemble/core';

const none: EffectiveLimits = Object.freeze({ project: undefined, key: undefined });

interface Entry {
  limits: EffectiveLimits;
  at: number;
}

/**
 * The limits of each caller (project and key), remembered for `ttlMs` so the request path reads a map.
 * A change through the API is seen at once on the instance that made it (`forget`), on the others
 * within the TTL. Concurrent misses for one caller share one query.
 */
export class LimitsCache {
  readonly #store: LimitStore;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  readonly #pending = new Map<string, Promise<EffectiveLimits>>();

  constructor(store: LimitStore, { ttlMs = 5_000, now = Date.now }: { ttlMs?: number; now?: () => number } = {}) {
    this.#store = store;
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  get(projectId: string, keyId: string | null): EffectiveLimits | Promise<EffectiveLimits> {
    const id = `${projectId}\u0000${keyId ?? ''}`;
    const entry = this.#entries.get(id);
    if (entry !== undefined && this.#now() - entry.at < this.#ttlMs) return entry.limits;
    let pending = this.#pending.get(id);
    if (pending === undefined) {
      pending = this.#store
        .effective(projectId, keyId)
        .then((found) => {
          const limits =
            found.project === undefined && found.key === undefined ? none : { project: found.project, key: found.key };
          if (this.#entries.size >= 50_000) this.#entries.clear();
          this.#entries.set(id, { limits, at: this.#now() });
          return limits;
        })
        .finally(() => this.#pending.delete(id));
      this.#pending.set(id, pending);
    }
    return pending;
  }

  /** The cached limits only (for charging tokens after a call, which must not query). */
  peek(projectId: string, keyId: string | null): EffectiveLimits | undefined {
    return this.#entries.get(`${projectId}\u0000${keyId ?? ''}`)?.limits;
  }

  /** Drops what this instance remembers of a project (after a change through the API). */
  forget(projectId: string): void {
    for (const id of this.#entries.keys()) if (id.startsWith(`${projectId}\u0000`)) this.#entries.delete(id);
  }
}
