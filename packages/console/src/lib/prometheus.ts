/** Reading Prometheus' text format in the browser, and turning counters into live rates (pure). */

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const line = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parsePrometheus(text: string): PromSample[] {
  const samples: PromSample[] = [];
  for (const raw of text.split('\n')) {
    if (raw === '' || raw.startsWith('#')) continue;
    const match = line.exec(raw);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(label)) {
      labels[pair[1] as string] = (pair[2] as string).replace(/\\(.)/g, (_, char: string) =>
        char === 'n' ? '\n' : char,
      );
    }
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The figures the overview draws, summed from one scrape. */
export interface MetricsSample {
  at: number;
  /** Model calls answered so far (`/v1/*` and `/api/models/…/invoke`), and those that failed (5xx, 429). */
  calls: number;
  failedCalls: number;
  /** Seconds spent answering them (the histogram's `_sum`). */
  callSeconds: number;
  residentBytes: number | null;
  eventLoopP99Seconds: number | null;
  consumerLag: number;
}

const isModelCall = (route: string | undefined) =>
  route !== undefined && (route.startsWith('/v1/') || route.endsWith('/invoke'));

export function sampleMetrics(samples: PromSample[], at: number): MetricsSample {
  const sample: MetricsSample = {
    at,
    calls: 0,
    failedCalls: 0,
    callSeconds: 0,
    residentBytes: null,
    eventLoopP99Seconds: null,
    consumerLag: 0,
  };
  for (const { name, labels, value } of samples) {
    if (name === 'ensemble_http_requests_total' && isModelCall(labels.route)) {
      sample.calls += value;
      const status = Number(labels.status);
      if (status >= 500 || status === 429) sample.failedCalls += value;
    } else if (name === 'ensemble_http_request_duration_seconds_sum' && isModelCall(labels.route)) {
      sample.callSeconds += value;
    } else if (name === 'process_resident_memory_bytes') sample.residentBytes = value;
    else if (name === 'nodejs_eventloop_lag_p99_seconds') sample.eventLoopP99Seconds = value;
    else if (name === 'ensemble_consumer_lag') sample.consumerLag += value;
  }
  return sample;
}

export interface RatePoint {
  at: number;
  requestsPerSecond: number;
  errorRate: number;
  meanLatencyMs: number | null;
}

/** Rates between consecutive samples; a counter that went down (a restart) starts over at zero. */
export function ratesOf(samples: readonly MetricsSample[]): RatePoint[] {
  const points: RatePoint[] = [];
  for (let index = 1; index < samples.length; index++) {
    const before = samples[index - 1] as MetricsSample;
    const after = samples[index] as MetricsSample;
    const seconds = (after.at - before.at) / 1000;
    if (seconds <= 0) continue;
    const restarted = after.calls < before.calls;
    const calls = restarted ? after.calls : after.calls - before.calls;
    const failed = restarted ? after.failedCalls : after.failedCalls - before.failedCalls;
    const spent = restarted ? after.callSeconds : after.callSeconds - before.callSeconds;
    points.push({
      at: after.at,
      requestsPerSecond: calls / seconds,
      errorRate: calls > 0 ? failed / calls : 0,
      meanLatencyMs: calls > 0 ? (spent / calls) * 1000 : null,
    });
  }
  return points;
}
