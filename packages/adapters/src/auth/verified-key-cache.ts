import { type Authentication, authenticationFailed } from '@ensemble/core';

export interface VerifiedKeyCacheOptions {
  /** How long an answer is trusted; 0 caches nothing. */
  ttlMs: number;
  /** Beyond this many keys (and as many refusals), the oldest answers are dropped first. */
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
 * Refusals live in a map of their own, so a flood of made-up keys cannot push valid ones out.
 */
export class VerifiedKeyCache {
  readonly #verified = new Map<string, Entry>();
  readonly #refused = new Map<string, Entry>();
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
    return this.#verified.size + this.#refused.size;
  }

  /** The cached answer, or `undefined` when there is none or it is too old. */
  get(secretHash: string): Authentication | undefined {
    const map = this.#verified.has(secretHash) ? this.#verified : this.#refused;
    const entry = map.get(secretHash);
    if (entry === undefined) return undefined;
    const now = this.#now();
    if (now >= entry.cachedUntil) {
      map.delete(secretHash);
      return undefined;
    }
    if (entry.keyExpiresAt !== undefined && now >= entry.keyExpiresAt) return authenticationFailed.expired;
    return entry.answer;
  }

  /** Caches an answer read while `generation` was current; dropped if an eviction happened since. */
  set(secretHash: string, answer: Authentication, generation: number, keyExpiresAt?: Date | null): void {
    if (this.#ttlMs === 0 || generation !== this.#generation) return;
    const verified = 'principal' in answer;
    const map = verified ? this.#verified : this.#refused;
    (verified ? this.#refused : this.#verified).delete(secretHash);
    if (map.size >= this.#maxEntries && !map.has(secretHash)) {
      // Maps iterate in insertion order: the first key is the oldest answer.
      const oldest = map.keys().next();
      if (oldest.done !== true) map.delete(oldest.value);
    }
    map.set(secretHash, {
      answer,
      keyId: verified ? (answer.principal.keyId ?? undefined) : undefined,
      keyExpiresAt: keyExpiresAt?.getTime() ?? undefined,
      cachedUntil: this.#now() + this.#ttlMs,
    });
  }

  /** Forgets every answer about one key (its revocation on this instance). */
  evictKey(keyId: string): void {
    this.#generation += 1;
    for (const [secretHash, entry] of this.#verified) {
      if (entry.keyId === keyId) this.#verified.delete(secretHash);
    }
  }

  clear(): void {
    this.#generation += 1;
    this.#verified.clear();
    this.#refused.clear();
  }
}
