export interface LengthBucketOptions {
  /** Fixed cost of one model call, in padded tokens: what splitting a batch must save to pay off. */
  runOverheadTokens: number;
  /** Padded tokens (rows × longest) per call at most; one row longer than this still goes alone. */
  maxTokensPerRun: number;
}

/**
 * Splits a batch into model calls so that each pads only to its own longest member. A transformer
 * computes every padded position, so one 256-token document among 63 ten-token queries would make
 * all 64 rows cost 256. Rows are sorted by length and cut into consecutive runs minimising padded
 * tokens plus a per-call overhead (exact, by dynamic programming: O(n²) for n rows, trivial at batch
 * sizes). Returns the row indices of each run, shortest run first.
 */
export function lengthBuckets(lengths: readonly number[], options: LengthBucketOptions): number[][] {
  const order = lengths.map((_, index) => index).sort((a, b) => (lengths[a] as number) - (lengths[b] as number));
  const sorted = order.map((index) => lengths[index] as number);
  const count = sorted.length;
  // best[i]: cheapest cost of the first i sorted rows; cut[i]: where their last run starts.
  const best = new Array<number>(count + 1).fill(Number.POSITIVE_INFINITY);
  const cut = new Array<number>(count + 1).fill(0);
  best[0] = 0;
  for (let end = 1; end <= count; end++) {
    const longest = sorted[end - 1] as number;
    for (let start = end - 1; start >= 0; start--) {
      const padded = (end - start) * longest;
      if (padded > options.maxTokensPerRun && end - start > 1) break;
      const cost = (best[start] as number) + padded + options.runOverheadTokens;
      if (cost < (best[end] as number)) {
        best[end] = cost;
        cut[end] = start;
      }
    }
  }
  const runs: number[][] = [];
  for (let end = count; end > 0; end = cut[end] as number) runs.unshift(order.slice(cut[end], end));
  return runs;
}
