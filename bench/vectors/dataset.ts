/** Clustered unit vectors (Gaussian blobs around random centres): ANN behaves on them as on real embeddings. */
export interface Dataset {
  dim: number;
  vectors: Float32Array[];
  queries: Float32Array[];
  /** Each vector's bucket (i % 10), for 10%-selective filters. */
  buckets: Uint8Array;
}

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normalise(v: Float32Array): Float32Array {
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) / norm;
  return v;
}

/** `spread`: the noise's norm relative to the centre's (1). */
export function clusteredDataset(n: number, dim: number, queries: number, clusters: number, spread = 0.5): Dataset {
  const random = seeded(42);
  const centres = Array.from({ length: clusters }, () =>
    normalise(Float32Array.from({ length: dim }, () => gaussian(random))),
  );
  const point = () => {
    const centre = centres[Math.floor(random() * clusters)] as Float32Array;
    const v = new Float32Array(dim);
    const sigma = spread / Math.sqrt(dim);
    for (let d = 0; d < dim; d++) v[d] = (centre[d] as number) + sigma * gaussian(random);
    return normalise(v);
  };
  const vectors = Array.from({ length: n }, point);
  return {
    dim,
    vectors,
    queries: Array.from({ length: queries }, point),
    buckets: Uint8Array.from({ length: n }, (_, i) => i % 10),
  };
}

/** The exact top k by cosine (dot product of unit vectors), optionally among allowed ids only. */
export function exactTopK(data: Dataset, query: Float32Array, k: number, allowed?: (i: number) => boolean): number[] {
  const best: { i: number; s: number }[] = [];
  let worst = -Infinity;
  const d = data.dim;
  for (let i = 0; i < data.vectors.length; i++) {
    if (allowed && !allowed(i)) continue;
    const v = data.vectors[i] as Float32Array;
    let s = 0;
    for (let j = 0; j < d; j++) s += (v[j] as number) * (query[j] as number);
    if (best.length < k || s > worst) {
      best.push({ i, s });
      best.sort((a, b) => b.s - a.s);
      if (best.length > k) best.pop();
      worst = (best[best.length - 1] as { s: number }).s;
    }
  }
  return best.map((b) => b.i);
}

export function recall(found: readonly number[], truth: readonly number[]): number {
  const set = new Set(truth);
  let hit = 0;
  for (const id of found) if (set.has(id)) hit++;
  return truth.length === 0 ? 1 : hit / truth.length;
}
