/** The shapes the charts draw, computed apart from React so they are unit-tested (pure). */
import type { UsageSummary } from '../api/types.ts';

export interface Point {
  x: number;
  y: number | null;
}

export interface SeriesData {
  label: string;
  points: Point[];
}

const bucketMs = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;

/**
 * One point per bucket from `from` to `to`, zero (or null for latencies) where the ledger has no
 * row: a quiet minute is a real zero, not a gap to interpolate over.
 */
export function usageSeries(
  summary: Pick<UsageSummary, 'from' | 'to' | 'bucket' | 'series'>,
  pick: (row: UsageSummary['series'][number]) => number | null,
  { emptyIsNull = false } = {},
): Point[] {
  const step = bucketMs[summary.bucket];
  const start = Math.floor(Date.parse(summary.from) / step) * step;
  const end = Date.parse(summary.to);
  const byBucket = new Map<number, number | null>();
  for (const row of summary.series) {
    const at = Date.parse(row.bucketStart);
    const value = pick(row);
    const previous = byBucket.get(at);
    byBucket.set(
      at,
      previous === undefined || previous === null ? value : value === null ? previous : previous + value,
    );
  }
  const points: Point[] = [];
  for (let at = start; at <= end; at += step) {
    const value = byBucket.get(at);
    points.push({ x: at, y: value === undefined ? (emptyIsNull ? null : 0) : value });
  }
  return points;
}

export interface Geometry {
  width: number;
  height: number;
  padding: { top: number; right: number; bottom: number; left: number };
}

/** Scales series into an SVG box: paths (gaps where y is null), the y maximum and the x range. */
export function chartPaths(series: readonly SeriesData[], geometry: Geometry) {
  const { width, height, padding } = geometry;
  const all = series.flatMap((item) => item.points);
  const xs = all.map((point) => point.x);
  const ys = all.flatMap((point) => (point.y === null ? [] : [point.y]));
  const minX = xs.length ? Math.min(...xs) : 0;
  const maxX = xs.length ? Math.max(...xs) : 1;
  const maxY = niceMax(ys.length ? Math.max(...ys) : 0);
  const innerWidth = width - padding.left - padding.right;
  const innerHeight = height - padding.top - padding.bottom;
  const x = (value: number) =>
    padding.left + (maxX === minX ? innerWidth : ((value - minX) / (maxX - minX)) * innerWidth);
  const y = (value: number) => padding.top + innerHeight - (maxY === 0 ? 0 : (value / maxY) * innerHeight);
  const paths = series.map((item) => {
    let d = '';
    let drawing = false;
    for (const point of item.points) {
      if (point.y === null) {
        drawing = false;
        continue;
      }
      d += `${drawing ? 'L' : 'M'}${x(point.x).toFixed(1)},${y(point.y).toFixed(1)}`;
      drawing = true;
    }
    return d;
  });
  return { paths, maxY, minX, maxX };
}

/** 0.87 → 1, 13 → 15, 240 → 250: an axis maximum a person reads at a glance. */
export function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const scaled = value / power;
  const step = [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].find((candidate) => candidate >= scaled - 1e-9) ?? 10;
  return step * power;
}
