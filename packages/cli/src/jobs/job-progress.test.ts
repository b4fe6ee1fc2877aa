import assert from 'node:assert/strict';
import { it } from 'node:test';
import { duration, JobProgress, progressLine } from './job-progress.ts';

it('computes the recent rate and the ETA, and draws one line', () => {
  const progress = new JobProgress(5_000);
  const sample = (atMs: number, succeeded: number, failed = 0) => ({ atMs, total: 10_000, succeeded, failed });
  progress.add(sample(0, 0));
  assert.equal(progress.rate(), undefined);
  progress.add(sample(1_000, 500));
  assert.equal(progress.rate(), 500);
  progress.add(sample(2_000, 1_500, 500));
  assert.equal(progress.rate(), 1_000);
  assert.equal(progress.etaSeconds(), 8);
  // Samples older than the window leave it: the rate follows the job's current speed (1,500/s from 3 s on).
  for (let second = 3; second <= 7; second++) progress.add(sample(second * 1_000, 1_500 + (second - 2) * 1_500, 500));
  assert.equal(progress.rate(), 1_500);
  const line = progressLine('running', sample(7_000, 9_000, 500), progress, 10);
  assert.equal(line, 'running   [██████████]  95% 9,500/10,000 · 500 failed · 1,500 items/s · ETA 1s');
  assert.equal(duration(185), '3m 05s');
  assert.equal(duration(7_800), '2h 10m');
});
