/**
 * What the gateway pays to ask for a route on a cache hit: `RouteLookupCache.current` (what
 * `PostgresRouteLookup.current` delegates to) for a route and for a name that is no route (every model
 * call), awaited the way the gateway awaits it.
 *
 *   node bench/routes/lookup.ts [--rounds 5] [--calls 1000000]
 *
 * A hit never reaches the source, so the source here is in memory. Medians of the rounds.
 */
import { parseArgs } from 'node:util';
import { RouteLookupCache } from '@ensemble/adapters/postgres';
import { parseRoute, type Route } from '@ensemble/core';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, calls: { type: 'string', default: '1000000' } },
});
const rounds = Number(values.rounds);
const calls = Number(values.calls);

const chat = parseRoute({ name: 'chat', version: 1, policy: { strategy: 'fallback', targets: ['a/b', 'c/d'] } });
const cache = new RouteLookupCache({
  source: {
    current: async (_projectId, name) => (name === 'chat' ? chat : undefined),
    currentAll: async () => [chat],
  },
  ttlMs: 3_600_000,
});
// Many other entries, as on a busy gateway.
for (let i = 0; i < 5_000; i += 1) await cache.current(`project-${i % 50}`, `model-${i}`);

async function measure(name: string): Promise<number> {
  let found: Route | undefined;
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i += 1) found = await cache.current('default', name);
  const elapsed = Number(process.hrtime.bigint() - start);
  if (name === 'chat' && found !== chat) throw new Error('not a hit');
  return elapsed / calls;
}

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] ?? Number.NaN;
const route: number[] = [];
const absent: number[] = [];
await measure('chat');
await measure('openai/gpt-4o-mini');
for (let round = 0; round < rounds; round += 1) {
  route.push(await measure('chat'));
  absent.push(await measure('openai/gpt-4o-mini'));
}
console.log(
  `node ${process.version}, ${calls.toLocaleString('en')} awaited calls per round, ${rounds} rounds (median)`,
);
console.log(
  `route found:     ${(median(route) / 1000).toFixed(3)} µs per call  (rounds: ${route.map((n) => n.toFixed(0)).join(', ')} ns)`,
);
console.log(
  `no such route:   ${(median(absent) / 1000).toFixed(3)} µs per call  (rounds: ${absent.map((n) => n.toFixed(0)).join(', ')} ns)`,
);
