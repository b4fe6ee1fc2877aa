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

  it('shares callers arriving together out over the free replicas instead of one batch on one', async () => {
    const calls: number[][] = [];
    const releases: Array<() => void> = [];
    const batcher = new DynamicBatcher<number, number>({
      windowMs: 1_000,
      maxBatchSize: 64,
      maxInFlight: 2,
      run: async (items) => {
        calls.push(items);
        await new Promise<void>((resolve) => releases.push(resolve));
        return items;
      },
    });
    const all = Promise.all(Array.from({ length: 64 }, (_, index) => batcher.submit([index])));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      calls.map((call) => call.length),
      [32, 32],
    );
    // While both run, newcomers gather; when one replica frees, they go to it as one batch.
    const later = Promise.all([batcher.submit([100]), batcher.submit([101])]);
    releases[0]?.();
    for (let tick = 0; tick < 3; tick++) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(calls[2], [100, 101]);
    for (const release of releases.slice(1)) release();
    assert.deepEqual(await later, [[100], [101]]);
    assert.equal((await all).length, 64);
  });
});
