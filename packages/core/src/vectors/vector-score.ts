import type { VectorMetric } from './vector-record.ts';

/**
 * The score Pinecone reports for a match: cosine similarity and dot product (higher is closer), and
 * the squared Euclidean distance (lower is closer).
 */
export function vectorScore(metric: VectorMetric, a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (metric === 'euclidean') {
    let sum = 0;
    for (let i = 0; i < a.length; i++) {
      const d = (a[i] as number) - (b[i] as number);
      sum += d * d;
    }
    return sum;
  }
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  if (metric === 'dotproduct') return dot;
  const norms = Math.sqrt(normA) * Math.sqrt(normB);
  return norms === 0 ? 0 : dot / norms;
}

/** Whether score `a` ranks before score `b` under the metric. */
export function scoreRanksFirst(metric: VectorMetric, a: number, b: number): boolean {
  return metric === 'euclidean' ? a < b : a > b;
}

/** Sort comparator putting the closest matches first. */
export function byScore(metric: VectorMetric): (a: { score: number }, b: { score: number }) => number {
  return metric === 'euclidean' ? (a, b) => a.score - b.score : (a, b) => b.score - a.score;
}
