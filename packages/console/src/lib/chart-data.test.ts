import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chartPaths, niceMax, usageSeries } from './chart-data.ts';

const row = (bucketStart: string, requests: number, latencyP95Ms: number | null = null) => ({
  bucketStart,
  group: {},
  requests,
  errors: 0,
  inputTokens: 0,
  outputTokens: 0,
  costUsd: 0,
  latencyP50Ms: null,
  latencyP95Ms,
  timeToFirstTokenP50Ms: null,
  cacheHits: 0,
});

describe('chart data', () => {
  const summary = {
    from: '2026-01-01T10:00:30Z',
    to: '2026-01-01T10:04:10Z',
    bucket: 'minute' as const,
    series: [row('2026-01-01T10:01:00Z', 3, 120), row('2026-01-01T10:01:00Z', 2), row('2026-01-01T10:03:00Z', 1, 80)],
  };

  it('fills every bucket of the window, quiet ones with zero, and sums groups of one bucket', () => {
    const points = usageSeries(summary, (item) => item.requests);
    assert.deepEqual(
      points.map((point) => point.y),
      [0, 5, 0, 1, 0],
    );
    assert.equal(points[0]?.x, Date.parse('2026-01-01T10:00:00Z'));
  });

  it('leaves latency gaps as null where nothing was measured', () => {
    const points = usageSeries(summary, (item) => item.latencyP95Ms, { emptyIsNull: true });
    assert.deepEqual(
      points.map((point) => point.y),
      [null, 120, null, 80, null],
    );
  });

  it('draws a path that breaks at gaps and scales to a readable maximum', () => {
    const { paths, maxY } = chartPaths(
      [
        {
          label: 'a',
          points: [
            { x: 0, y: 0 },
            { x: 1, y: 13 },
            { x: 2, y: null },
            { x: 3, y: 5 },
          ],
        },
      ],
      { width: 100, height: 50, padding: { top: 0, right: 0, bottom: 0, left: 0 } },
    );
    assert.equal(maxY, 15);
    assert.equal(paths[0], 'M0.0,50.0L33.3,6.7M100.0,33.3');
  });

  it('rounds axis maxima up to friendly numbers', () => {
    assert.deepEqual([0, 0.87, 13, 240, 1000].map(niceMax), [1, 1, 15, 250, 1000]);
  });
});
