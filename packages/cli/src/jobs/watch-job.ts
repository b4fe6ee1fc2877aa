import { setTimeout as sleep } from 'node:timers/promises';
import { EnsembleError } from '@ensemble/core';
import { JobProgress, type ProgressSample, progressLine } from './job-progress.ts';
import { type ApiTarget, apiRequest } from './jobs-api-client.ts';

export interface JobEventData {
  seq: number;
  status: string;
  counts: { total: number; succeeded: number; failed: number };
  /** Ingestion jobs: chunks embedded of those known so far. */
  progress?: { done: number; total: number };
}

const terminal = new Set(['completed', 'completed_with_errors', 'cancelled']);

/**
 * Follows a job's event stream to its end, drawing a progress bar (rate, ETA) on `out`: redrawn in
 * place on a terminal, one line per tenth otherwise. A dropped connection is resumed from the last
 * event seen (Last-Event-ID). Resolves with the job's final status.
 */
export async function watchJob(target: ApiTarget, jobId: string, out: NodeJS.WriteStream): Promise<JobEventData> {
  const progress = new JobProgress();
  let last: JobEventData | undefined;
  let lastTenth = -1;
  let lastStatus = '';
  const draw = (event: JobEventData, final = false) => {
    // An ingestion job's bar counts chunks (its items are whole documents).
    const counts =
      event.progress === undefined
        ? event.counts
        : { total: event.progress.total, succeeded: event.progress.done, failed: 0 };
    const sample: ProgressSample = { atMs: Date.now(), ...counts };
    progress.add(sample);
    const unit = event.progress === undefined ? 'items' : 'chunks';
    const line = `${jobId} ${progressLine(event.status, sample, progress, 24, unit)}`;
    const done = counts.succeeded + counts.failed;
    const tenth = counts.total > 0 ? Math.floor((done * 10) / counts.total) : 0;
    if (out.isTTY) out.write(`\r\x1b[2K${line}${final ? '\n' : ''}`);
    else if (final || (!terminal.has(event.status) && (tenth > lastTenth || event.status !== lastStatus))) {
      out.write(`${line}\n`);
    }
    lastTenth = tenth;
    lastStatus = event.status;
  };
  for (let failures = 0; ; ) {
    try {
      const response = await apiRequest(
        target,
        'GET',
        `/api/jobs/${jobId}/events`,
        undefined,
        last === undefined ? {} : { 'last-event-id': String(last.seq) },
      );
      for await (const { type, data } of readEvents(response)) {
        failures = 0;
        last = data;
        // The job's last progress step already carries its final status; the end event draws the last bar.
        draw(data, type === 'job.completed' || type === 'job.cancelled');
      }
      if (last !== undefined && terminal.has(last.status)) return last;
    } catch (error) {
      // A refusal (unknown job, bad key) will not change; a lost connection might.
      if (error instanceof EnsembleError && error.code !== 'upstream_error') throw error;
      failures += 1;
      if (failures > 30) throw error;
    }
    await sleep(1_000);
  }
}

async function* readEvents(response: Response): AsyncGenerator<{ type: string; data: JobEventData }> {
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const bytes of response.body as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(bytes, { stream: true });
    for (let end = buffered.indexOf('\n\n'); end !== -1; end = buffered.indexOf('\n\n')) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const field = (name: string) =>
        block
          .split('\n')
          .find((line) => line.startsWith(`${name}: `))
          ?.slice(name.length + 2);
      const data = field('data');
      if (data !== undefined) yield { type: field('event') ?? 'message', data: JSON.parse(data) as JobEventData };
    }
  }
}
