import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LeasedRateLimiter } from './leased-rate-limiter.ts';
import type { SharedBuckets } from './limit-store.ts';

/** A shared store in memory with the PostgreSQL functions' arithmetic, counting round trips. */
class MemoryBuckets implements SharedBuckets {
  readonly tokens = new Map<string, { tokens: number; at: number }>();
  calls = 0;
  readonly now: () => number;
  constructor(now: () => number) {
    this.now = now;
  }
  #refilled(bucket: string, capacity: number, perSecond: number) {
    const state = this.tokens.get(bucket) ?? { tokens: capacity, at: this.now() };
    state.tokens = Math.min(capacity, state.tokens + ((this.now() - state.at) / 1000) * perSecond);
    state.at = this.now();
    this.tokens.set(bucket, state);
    return state;
  }
  async take(bucket: string, capacity: number, perSecond: number, want: number) {
    this.calls += 1;
    const state = this.#refilled(bucket, capacity, perSecond);
    const granted = Math.min(want, Math.max(0, state.tokens));
    state.tokens -= granted;
    return { granted, left: state.tokens };
  }
  async give(bucket: string, capacity: number, perSecond: number, amount: number) {
    this.calls += 1;
    const state = this.#refilled(bucket, capacity, perSecond);
    state.tokens = Math.min(capacity, state.tokens + amount);
  }
}

describe('LeasedRateLimiter', () => {
  it('never admits more than the bucket across instances, and asks the store once per lease', async () => {
    const now = 0;
    const store = new MemoryBuckets(() => now);
    const instances = [1, 2, 3].map(() => new LeasedRateLimiter(store, { now: () => now }));
    let allowed = 0;
    for (let i = 0; i < 300; i++) {
      const decision = await instances[i % 3]?.take('rpm:k', 100);
      if (decision?.allowed) allowed += 1;
    }
    assert.ok(allowed <= 100, `${allowed} admitted of a 100-token bucket`);
    assert.ok(allowed >= 70, `${allowed}: leases may hold back at most one each`);
    assert.ok(store.calls < 60, `${store.calls} store calls for 300 requests`);
  });

  it('refuses with a retry-after from the refill rate, remembers it, and admits again once refilled', async () => {
    let now = 0;
    const store = new MemoryBuckets(() => now);
    const limiter = new LeasedRateLimiter(store, { now: () => now });
    assert.equal((await limiter.take('rpm:k', 2)).allowed, true);
    assert.equal((await limiter.take('rpm:k', 2)).allowed, true);
    const refused = await limiter.take('rpm:k', 2);
    assert.equal(refused.allowed, false);
    assert.equal(refused.retryAfterMs, 30_000, 'one token of 2 a minute');
    const calls = store.calls;
    const again = limiter.take('rpm:k', 2);
    assert.ok(!(again instanceof Promise), 'a remembered refusal needs no query');
    assert.equal(store.calls, calls);
    now += 30_000;
    assert.equal((await limiter.take('rpm:k', 2)).allowed, true);
  });

  it('charges tokens after the fact as a debt that refuses until refilled', async () => {
    let now = 0;
    const store = new MemoryBuckets(() => now);
    const limiter = new LeasedRateLimiter(store, { now: () => now });
    assert.equal((await limiter.take('tpm:k', 1_000)).allowed, true);
    limiter.charge('tpm:k', 1_000, 2_500);
    await new Promise((resolve) => setImmediate(resolve));
    now += 1_001;
    const refused = await limiter.take('tpm:k', 1_000);
    assert.equal(refused.allowed, false);
    assert.ok(refused.retryAfterMs > 60_000, `${refused.retryAfterMs} ms: 1,500 tokens of debt at 1,000/min`);
  });

  it('fails open when the store is down, and says so', async () => {
    const errors: unknown[] = [];
    const broken: SharedBuckets = {
      take: async () => {
        throw new Error('database down');
      },
      give: async () => {},
    };
    const limiter = new LeasedRateLimiter(broken, { onStoreError: (error) => errors.push(error) });
    assert.equal((await limiter.take('rpm:k', 1)).allowed, true);
    assert.equal(errors.length, 1);
  });
});
