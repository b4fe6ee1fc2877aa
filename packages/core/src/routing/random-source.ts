/** A uniform number in [0, 1), injected so that weighted choices and jitter are reproducible in tests. */
export type RandomSource = () => number;

/** A small seeded generator (mulberry32): fast and reproducible, not for secrets. */
export function createSeededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
