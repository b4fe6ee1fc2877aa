// The cost of rate limiting on the request path: `LeasedRateLimiter.take` when the lease covers the
// call (the common case), and how many calls reach the shared store. The store here answers from
// memory, so the figure is the limiter's own CPU; a lease from PostgreSQL is one round trip
// (rate_bucket_take) per leaseFraction × capacity calls.
//   node bench/limits/fast-path.ts
import { LeasedRateLimiter, type SharedBuckets } from '@ensemble/core';

let storeCalls = 0;
const tokens = new Map<string, number>();
const store: SharedBuckets = {
  async take(bucket, capacity, _perSecond, want) {
    storeCalls += 1;
    // Refills fully each time: the benchmark measures the path, not a limit being reached.
    const left = capacity;
    tokens.set(bucket, left - want);
    return { granted: want, left: left - want };
  },
  async give() {},
};

const limiter = new LeasedRateLimiter(store);
const perMinute = 600_000;
const rounds = 5;
const calls = 1_000_000;
const results: number[] = [];
for (let round = 0; round < rounds; round++) {
  storeCalls = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) {
    const decision = limiter.take(`rpm:k:key_${i % 100}`, perMinute);
    if (decision instanceof Promise) await decision;
  }
  const elapsed = Number(process.hrtime.bigint() - started);
  results.push(elapsed / calls);
  console.log(
    `round ${round + 1}: ${(elapsed / calls).toFixed(0)} ns per take, ${storeCalls} store calls for ${calls} takes`,
  );
}
results.sort((a, b) => a - b);
console.log(`median ${results[Math.floor(rounds / 2)]?.toFixed(0)} ns per take (100 keys, ${perMinute}/min each)`);
