import type { VectorMetric } from '../vectors/vector-record.ts';
import { vectorScore } from '../vectors/vector-score.ts';

/**
 * Picks `k` of the candidates greedily, each maximising λ·sim(query, c) − (1−λ)·max sim(c, picked),
 * with cosine similarity (so the metric of the index does not skew the trade-off). Returns indexes
 * into `candidates` in the order picked.
 */
export function maximalMarginalRelevance(
  query: readonly number[],
  candidates: readonly (readonly number[])[],
  k: number,
  lambda: number,
): number[] {
  const metric: VectorMetric = 'cosine';
  const relevance = candidates.map((c) => vectorScore(metric, query, c));
  const picked: number[] = [];
  const redundancy = new Array<number>(candidates.length).fill(Number.NEGATIVE_INFINITY);
  const left = new Set(candidates.map((_, i) => i));
  while (picked.length < k && left.size > 0) {
    let best = -1;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (const i of left) {
      const penalty = picked.length === 0 ? 0 : (redundancy[i] as number);
      const score = lambda * (relevance[i] as number) - (1 - lambda) * penalty;
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    }
    picked.push(best);
    left.delete(best);
    for (const i of left) {
      const similarity = vectorScore(metric, candidates[i] as number[], candidates[best] as number[]);
      if (similarity > (redundancy[i] as number)) redundancy[i] = similarity;
    }
  }
  return picked;
}
