import { type Authentication, authenticationFailed } from '@ensemble/core';

export interface VerifiedKeyCacheOptions {
  /** How long an answer is trusted; 0 caches nothing. */
  ttlMs: number;
  /** Beyond this many secrets, the oldest answers are dropped first. */
  maxEntries: number;
  now?: () => number;
}

interface Entry {
  readonly answer: Authentication;
  readonly keyId: string | undefined;
  /** When the key itself expires (epoch ms), for answers that are principals. */
  readonly keyExpiresAt: number | undefined;
  readonly cachedUntil: number;
}

/**
 * Answers of recent lookups by secret hash, so a key presented again is checked in memory. Bounded in
 * size and time: after `ttlMs` the database is asked again, which is how a revocation made by another
 * instance arrives. A key that expires while cached is refused from the cache at that instant.
 */
export class VerifiedKeyCache {
  readonly #entries = new Map<string, Entry>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  /** Bumped by every eviction, so a lookup that started before one does not cache what it read. */
  #generation = 0;

  constructor(options: VerifiedKeyCacheOptions) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries;
    this.#now = options.now ?? Date.now;
  }

  get generation(): number {
    return this.#generation;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The cached answer, or `undefined` when there is none or it is too old. */
  get(secretHash: string): Authentication | undefined {
    const entry = this.#entries.get(secretHash);
    if (entry === undefined) return undefined;
    const now = this.#now();
    if (now >= entry.cachedUntil) {
      this.#entries.delete(secretHash);
      return undefined;
    }
    if (entry.keyExpiresAt !== undefined && now >= entry.keyExpiresAt) return authenticationFailed.expired;
    return entry.answer;
  }

  /** Caches an answer read while `generation` was current; dropped if an eviction happened since. */
  set(secretHash: string, answer: Authentication, generation: number, keyExpiresAt?: Date | null): void {
    if (this.#ttlMs === 0 || generation !== this.#generation) return;
    if (this.#entries.size >= this.#maxEntries && !this.#entries.has(secretHash)) {
      // Maps iterate in insertion order: the first key is the oldest answer.
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(secretHash, {
      answer,
      keyId: 'principal' in answer ? (answer.principal.keyId ?? undefined) : undefined,
      keyExpiresAt: keyExpiresAt?.getTime() ?? undefined,
      cachedUntil: this.#now() + this.#ttlMs,
    });
  }

  /** Forgets every answer about one key (its revocation on this instance). */
  evictKey(keyId: string): void {
    this.#generation += 1;
    for (const [secretHash, entry] of this.#entries) {
      if (entry.keyId === keyId) this.#entries.delete(secretHash);
    }
  }

  clear(): void {
    this.#generation += 1;
    this.#entries.clear();
  }
}
