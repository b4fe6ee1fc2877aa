import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lengthBuckets } from './length-buckets.ts';

const padded = (lengths: number[], runs: number[][]) =>
  runs.reduce((sum, run) => sum + run.length * Math.max(...run.map((index) => lengths[index] as number)), 0);

describe('lengthBuckets', () => {
  it('keeps a batch of similar lengths in one call', () => {
    const lengths = [15, 17, 16, 18, 15, 17];
    assert.deepEqual(lengthBuckets(lengths, { runOverheadTokens: 16, maxTokensPerRun: 4096 }).length, 1);
  });

  it('runs a long document apart from short queries, so they do not pad to its length', () => {
    const lengths = [10, 12, 256, 11, 9, 10, 12, 11];
    const runs = lengthBuckets(lengths, { runOverheadTokens: 16, maxTokensPerRun: 4096 });
    assert.deepEqual(runs, [[4, 0, 5, 3, 7, 1, 6], [2]]);
    assert.ok(padded(lengths, runs) < 12 * 7 + 256 + 1);
  });

  it('covers every row exactly once and respects the tokens-per-call bound', () => {
    const lengths = Array.from({ length: 64 }, (_, index) => 8 + ((index * 37) % 120));
    const runs = lengthBuckets(lengths, { runOverheadTokens: 32, maxTokensPerRun: 1024 });
    assert.deepEqual(
      runs.flat().sort((a, b) => a - b),
      lengths.map((_, index) => index),
    );
    for (const run of runs) {
      const longest = Math.max(...run.map((index) => lengths[index] as number));
      assert.ok(run.length * longest <= 1024 || run.length === 1);
    }
    // Never worse than one padded call per bound-sized chunk of the sorted rows.
    assert.ok(padded(lengths, runs) < 64 * 127);
  });

  it('sends a row longer than the bound alone, and an empty batch as no call', () => {
    assert.deepEqual(lengthBuckets([300, 5], { runOverheadTokens: 8, maxTokensPerRun: 256 }), [[1], [0]]);
    assert.deepEqual(lengthBuckets([], { runOverheadTokens: 8, maxTokensPerRun: 256 }), []);
  });
});
