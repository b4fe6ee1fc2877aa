import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TopK } from './top-k.ts';

describe('TopK', () => {
  it('keeps the k highest for similarity metrics and the k lowest for euclidean', () => {
    const scores = [5, 1, 9, 3, 7, 2, 8];
    const high = new TopK<{ score: number }>(3, 'cosine');
    const low = new TopK<{ score: number }>(3, 'euclidean');
    for (const score of scores) {
      high.push({ score });
      low.push({ score });
    }
    assert.deepEqual(
      high.sorted().map((m) => m.score),
      [9, 8, 7],
    );
    assert.deepEqual(
      low.sorted().map((m) => m.score),
      [1, 2, 3],
    );
    assert.equal(high.admits(6), false);
    assert.equal(high.admits(7.5), true);
  });
});
