import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DynamicBatcher } from './dynamic-batcher.ts';

describe('DynamicBatcher', () => {
  it('gathers concurrent requests within the window into one call and splits the answers', async () => {
    const calls: number[][] = [];
    const batcher = new DynamicBatcher<number, number>({
      windowMs: 5,
      maxBatchSize: 100,
      run: async (items) => {
        calls.push(items);
        return items.map((item) => item * 10);
      },
    });
    const answers = await Promise.all([batcher.submit([1]), batcher.submit([2, 3]), batcher.submit([4])]);
    assert.deepEqual(answers, [[10], [20, 30], [40]]);
    assert.deepEqual(calls, [[1, 2, 3, 4]]);
  });

  it('sends at the batch size without waiting, and fails only the batch whose call failed', async () => {
    const calls: number[][] = [];
    const batcher = new DynamicBatcher<number, number>({
      windowMs: 1_000,
      maxBatchSize: 2,
      run: async (items) => {
        calls.push(items);
        if (items.includes(3)) throw new Error('bad batch');
        return items;
      },
    });
    const first = batcher.submit([1, 2]);
    const second = batcher.submit([3]);
    const third = batcher.submit([4]);
    assert.deepEqual(await first, [1, 2]);
    await assert.rejects(second, /bad batch/);
    await assert.rejects(third, /bad batch/);
    assert.deepEqual(calls, [
      [1, 2],
      [3, 4],
    ]);
  });
});
