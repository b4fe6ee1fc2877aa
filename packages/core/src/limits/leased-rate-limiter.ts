import type { SharedBuckets } from './limit-store.ts';

/** The answer for one bucket: allowed or not, and what the `x-ratelimit-*` headers say. */
export interface RateDecision {
  allowed: boolean;
  limit: number;
  /** Tokens left as this instance knows them (its lease plus the shared bucket at the last look). */
  remaining: number;
  /** When refused: how long until `cost` tokens are back. */
  retryAfterMs: number;
  /** How long until the bucket is full again. */
  resetMs: number;
}

export interface LeasedRateLimiterOptions {
  /** The share of a bucket's capacity one instance takes from the shared bucket at a time (0.1). */
  leaseFraction?: number;
  /** How long a lease is spent from memory before the next call looks at the shared bucket again (1 s). */
  leaseMs?: number;
  now?: () => number;
  /** Told when the shared store fails; the call is then allowed (limits fail open). */
  onStoreError?: (error: unknown) => void;
}

interface LocalBucket {
  /** Tokens taken from the shared bucket and not used yet; this instance spends them without asking. */
  allowance: number;
  leaseExpires: number;
  /** Refused until then without asking again (the shared bucket said it is empty). */
  blockedUntil: number;
  /** The shared bucket's tokens at the last look, after this instance's take. */
  sharedLeft: number;
  refilling: Promise<void> | undefined;
}

/**
 * Token buckets that hold across instances: the tokens live in a shared store (PostgreSQL), and each
 * instance takes a lease of a few of them at a time and spends it from memory. A call costs a map
 * lookup and a subtraction until the lease runs out; then one round trip takes the next lease. Never
 * more tokens are spent than the shared bucket handed out, so the limit holds whatever the number of
 * instances. An instance holds at most about one lease per bucket (10% of the capacity by default), so
 * with N instances up to N leases sit unused: the limit can under-admit by that, never over-admit.
 * A refusal is remembered until the bucket has refilled enough, so a client hammering a full bucket
 * costs no query per request.
 */
export class LeasedRateLimiter {
  readonly #buckets: SharedBuckets;
  readonly #local = new Map<string, LocalBucket>();
  readonly #leaseFraction: number;
  readonly #leaseMs: number;
  readonly #now: () => number;
  readonly #onStoreError: (error: unknown) => void;

  constructor(buckets: SharedBuckets, options: LeasedRateLimiterOptions = {}) {
    this.#buckets = buckets;
    this.#leaseFraction = options.leaseFraction ?? 0.1;
    this.#leaseMs = options.leaseMs ?? 1_000;
    this.#now = options.now ?? Date.now;
    this.#onStoreError = options.onStoreError ?? (() => {});
  }

  /**
   * Takes `cost` tokens from the bucket `name` of `perMinute` tokens a minute (its capacity too).
   * Synchronous when the lease covers it or a refusal is remembered; else one query.
   */
  take(name: string, perMinute: number, cost = 1): RateDecision | Promise<RateDecision> {
    const local = this.#bucket(name, perMinute);
    const now = this.#now();
    if (local.allowance >= cost && now < local.leaseExpires) {
      local.allowance -= cost;
      return this.#decision(local, perMinute, true, 0);
    }
    if (now < local.blockedUntil) return this.#decision(local, perMinute, false, local.blockedUntil - now);
    return this.#refill(name, local, perMinute, cost).then(() => {
      if (local.allowance >= cost) {
        local.allowance -= cost;
        return this.#decision(local, perMinute, true, 0);
      }
      const retryAfterMs = Math.max(1, Math.ceil(((cost - local.allowance - local.sharedLeft) * 60_000) / perMinute));
      local.blockedUntil = this.#now() + retryAfterMs;
      return this.#decision(local, perMinute, false, retryAfterMs);
    });
  }

  /**
   * Charges `amount` tokens after the fact (a call's model tokens, known when it ends): from the lease
   * first, the rest as a debt on the shared bucket, which refuses until it has refilled past it.
   */
  charge(name: string, perMinute: number, amount: number): void {
    if (amount <= 0) return;
    const local = this.#bucket(name, perMinute);
    const fromLease = Math.min(local.allowance, amount);
    local.allowance -= fromLease;
    const debt = amount - fromLease;
    if (debt <= 0) return;
    local.sharedLeft -= debt;
    this.#buckets.give(name, perMinute, perMinute / 60, -debt).catch(this.#onStoreError);
  }

  #bucket(name: string, perMinute: number): LocalBucket {
    let local = this.#local.get(name);
    if (local === undefined) {
      local = { allowance: 0, leaseExpires: 0, blockedUntil: 0, sharedLeft: perMinute, refilling: undefined };
      this.#local.set(name, local);
    }
    return local;
  }

  #refill(name: string, local: LocalBucket, perMinute: number, cost: number): Promise<void> {
    local.refilling ??= this.#lease(name, local, perMinute, cost).finally(() => {
      local.refilling = undefined;
    });
    return local.refilling;
  }

  async #lease(name: string, local: LocalBucket, perMinute: number, cost: number): Promise<void> {
    const perSecond = perMinute / 60;
    // What is left of an expired lease is kept and counted against the next one.
    const leftover = this.#now() >= local.leaseExpires ? local.allowance : 0;
    const want = Math.max(cost, Math.floor(perMinute * this.#leaseFraction)) - leftover;
    try {
      if (want <= 0) {
        local.leaseExpires = this.#now() + this.#leaseMs;
        return;
      }
      const { granted, left } = await this.#buckets.take(name, perMinute, perSecond, want);
      local.allowance += granted;
      local.sharedLeft = left;
      local.leaseExpires = this.#now() + this.#leaseMs;
    } catch (error) {
      // Fail open: a limits outage must not take the API down with it.
      this.#onStoreError(error);
      local.allowance += cost;
      local.leaseExpires = this.#now() + this.#leaseMs;
    }
  }

  #decision(local: LocalBucket, perMinute: number, allowed: boolean, retryAfterMs: number): RateDecision {
    const remaining = Math.max(0, Math.floor(local.allowance + Math.max(0, local.sharedLeft)));
    const resetMs = Math.ceil(((perMinute - remaining) * 60_000) / perMinute);
    return { allowed, limit: perMinute, remaining, retryAfterMs, resetMs };
  }
}
