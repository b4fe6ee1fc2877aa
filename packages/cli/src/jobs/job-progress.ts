/** A job's counts at one moment, as its events carry them. */
export interface ProgressSample {
  atMs: number;
  total: number;
  succeeded: number;
  failed: number;
}

/**
 * Rate and ETA from a job's progress: items per second over the last `windowMs` of samples (so the
 * rate follows the job's current speed, not its average since the start), and the time the pending
 * items take at that rate.
 */
export class JobProgress {
  readonly #windowMs: number;
  readonly #samples: ProgressSample[] = [];

  constructor(windowMs = 5_000) {
    this.#windowMs = windowMs;
  }

  add(sample: ProgressSample): void {
    this.#samples.push(sample);
    while (this.#samples.length > 2 && sample.atMs - (this.#samples[1] as ProgressSample).atMs >= this.#windowMs) {
      this.#samples.shift();
    }
  }

  /** Items finished per second lately; undefined until two samples span some time. */
  rate(): number | undefined {
    const first = this.#samples[0];
    const last = this.#samples.at(-1);
    if (first === undefined || last === undefined || last.atMs <= first.atMs) return undefined;
    const done = last.succeeded + last.failed - (first.succeeded + first.failed);
    return (done * 1000) / (last.atMs - first.atMs);
  }

  /** Seconds until every item has a result at the current rate; undefined while the rate is unknown or zero. */
  etaSeconds(): number | undefined {
    const last = this.#samples.at(-1);
    const rate = this.rate();
    if (last === undefined || rate === undefined || rate <= 0) return undefined;
    return Math.max(0, last.total - last.succeeded - last.failed) / rate;
  }
}

/** One line: `[█████░░░░░]  50% 5,000/10,000 · 3 failed · 1,234 items/s · ETA 4s`. */
export function progressLine(
  status: string,
  sample: ProgressSample,
  progress: JobProgress,
  width = 24,
  unit = 'items',
): string {
  const done = sample.succeeded + sample.failed;
  const ratio = sample.total > 0 ? Math.min(1, done / sample.total) : 0;
  const filled = Math.round(ratio * width);
  const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
  const parts = [
    `${status.padEnd(9)} [${bar}] ${`${Math.floor(ratio * 100)}`.padStart(3)}% ${number(done)}/${number(sample.total)}`,
  ];
  if (sample.failed > 0) parts.push(`${number(sample.failed)} failed`);
  const rate = progress.rate();
  if (rate !== undefined) parts.push(`${number(Math.round(rate))} ${unit}/s`);
  const eta = progress.etaSeconds();
  if (eta !== undefined && done < sample.total) parts.push(`ETA ${duration(eta)}`);
  return parts.join(' · ');
}

function number(value: number): string {
  return value.toLocaleString('en-US');
}

/** `42s`, `3m 05s`, `2h 10m`. */
export function duration(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3_600) return `${Math.floor(s / 60)}m ${`${s % 60}`.padStart(2, '0')}s`;
  return `${Math.floor(s / 3_600)}h ${`${Math.floor((s % 3_600) / 60)}`.padStart(2, '0')}m`;
}
