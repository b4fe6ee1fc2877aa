import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import {
  isTerminalJobStatus,
  type JobEvent,
  type JobEventNotifier,
  type JobRepository,
  type JobStatus,
} from '@ensemble/core';
import type { FastifyBaseLogger } from 'fastify';

export interface JobEventStreamOptions {
  jobs: JobRepository;
  notifier: JobEventNotifier;
  projectId: string;
  jobId: string;
  /** The last event the client has (Last-Event-ID); 0 for all of them. */
  afterSeq: number;
  /** The job's status when the stream opened. */
  status: JobStatus;
  log: FastifyBaseLogger;
  /** Between two comments that keep idle connections (and proxies) open. */
  heartbeatMs?: number;
  /** How often the job's events are read when no wake-up came (a lost NOTIFY, another database session). */
  pollMs?: number;
}

const pageSize = 500;

/**
 * Writes a job's events as Server-Sent Events — `id: <seq>`, `event: job.progressed`, `data: {…}` —
 * from the one after `afterSeq`, as they are stored, until the job has ended and its last event is
 * out (then the stream ends) or the client leaves. Resuming with `Last-Event-ID` gives every event
 * after it, exactly once and in order, because it reads the job's numbered event log.
 */
export async function streamJobEvents(response: ServerResponse, options: JobEventStreamOptions): Promise<void> {
  const { jobs, notifier, projectId, jobId, log } = options;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const pollMs = options.pollMs ?? 2_000;
  let after = options.afterSeq;
  let status = options.status;
  let wake: (() => void) | undefined;
  let woken = false;
  const unsubscribe = notifier.subscribe(jobId, () => {
    woken = true;
    wake?.();
  });
  const closed = new Promise<void>((resolve) => response.once('close', () => resolve()));
  const open = () => !response.destroyed && !response.writableEnded;
  const write = async (text: string) => {
    if (!response.write(text)) await Promise.race([once(response, 'drain'), closed]);
  };
  try {
    // The client reconnects after 2 s if the connection drops, sending the last id it saw.
    await write('retry: 2000\n\n');
    let lastWrite = Date.now();
    while (open()) {
      woken = false;
      let events: JobEvent[];
      try {
        events = await jobs.events(projectId, jobId, after, pageSize);
      } catch (error) {
        log.warn({ err: String(error), jobId }, 'could not read job events; trying again');
        events = [];
      }
      for (const event of events) {
        await write(
          `id: ${event.data.seq}\nevent: ${event.type.slice('jobs/'.length)}\ndata: ${JSON.stringify(event.data)}\n\n`,
        );
        after = event.data.seq;
        status = event.data.status;
        lastWrite = Date.now();
      }
      if (events.length === pageSize) continue;
      if (isTerminalJobStatus(status)) break;
      if (woken) continue;
      const waitMs = Math.min(pollMs, Math.max(0, heartbeatMs - (Date.now() - lastWrite)));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
        void closed.then(wake);
      });
      wake = undefined;
      if (open() && Date.now() - lastWrite >= heartbeatMs) {
        await write(': keep-alive\n\n');
        lastWrite = Date.now();
      }
    }
  } finally {
    unsubscribe();
    if (open()) response.end();
  }
}
