import type { RandomSource } from './random-source.ts';

/** The index drawn with probability weight/total, or -1 when no weight is above 0. */
export function pickWeighted(weights: readonly number[], random: RandomSource): number {
  let total = 0;
  for (const weight of weights) total += Math.max(weight, 0);
  if (total <= 0) return -1;
  let point = random() * total;
  let last = -1;
  for (let index = 0; index < weights.length; index += 1) {
    const weight = weights[index] ?? 0;
    if (weight <= 0) continue;
    last = index;
    if (point < weight) return index;
    point -= weight;
  }
  return last; // rounding left a sliver past the end: it belongs to the last positive weight
}
