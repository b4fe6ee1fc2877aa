/**
 * Times streamed chat completions from the client's side: N sequential requests over one kept-alive
 * undici connection; per request, the time from sending it to the first SSE event (`data:` bytes)
 * and to the end of the stream. Also checks each stream: it counts the events and requires it to
 * end with `data: [DONE]`.
 */
import { Client } from 'undici';

export interface Percentiles {
  p50Ms: number;
  p99Ms: number;
}

export interface StreamTiming {
  requests: number;
  firstChunk: Percentiles;
  lastChunk: Percentiles;
  /** Events (`data:` lines, [DONE] included) in the last stream. */
  events: number;
  /** Streams that were not a 200 ending with `data: [DONE]`. */
  failures: number;
  firstFailure?: string;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

function percentiles(samples: number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99) };
}

export async function timeStreams(options: {
  url: string;
  headers: Record<string, string>;
  body: string;
  requests: number;
  warmup: number;
  /** Bound for the whole measurement. */
  deadlineMs: number;
}): Promise<StreamTiming> {
  const client = new Client(options.url, { headersTimeout: 10_000, bodyTimeout: 10_000, pipelining: 1 });
  const firstSamples: number[] = [];
  const lastSamples: number[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  let events = 0;
  const deadline = Date.now() + options.deadlineMs;
  try {
    for (let i = 0; i < options.warmup + options.requests && Date.now() < deadline; i++) {
      const started = performance.now();
      let first = Number.NaN;
      let text = '';
      let status = 0;
      try {
        const response = await client.request({
          method: 'POST',
          path: '/v1/chat/completions',
          headers: { 'content-type': 'application/json', ...options.headers },
          body: options.body,
        });
        status = response.statusCode;
        for await (const part of response.body) {
          if (Number.isNaN(first)) first = performance.now() - started;
          text += (part as Buffer).toString('utf8');
        }
      } catch (error) {
        text = `error: ${String(error)}`;
      }
      const last = performance.now() - started;
      const ok = status === 200 && text.trimEnd().endsWith('data: [DONE]');
      if (i < options.warmup) continue;
      if (!ok) {
        failures++;
        firstFailure ??= `status ${status}: ${text.slice(0, 300)}`;
        continue;
      }
      events = text.split('\n').filter((line) => line.startsWith('data:')).length;
      firstSamples.push(first);
      lastSamples.push(last);
    }
  } finally {
    await client.close().catch(() => undefined);
  }
  return {
    requests: firstSamples.length,
    firstChunk: percentiles(firstSamples),
    lastChunk: percentiles(lastSamples),
    events,
    failures,
    firstFailure,
  };
}
