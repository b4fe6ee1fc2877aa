import {
  type EventBus,
  isTerminalJobStatus,
  type Job,
  type JobTopics,
  type JobWorkStore,
  jobRequestedEventType,
  jobRequestSchema,
  jobRetryRequestedEventType,
  jobTaskRecord,
  type Logger,
  type MessageHandler,
} from '@ensemble/core';
import { TasksHandedBack } from './job-task-handler.ts';

export interface JobPlannerOptions {
  store: JobWorkStore;
  bus: Pick<EventBus, 'publish'>;
  topics: JobTopics;
  logger: Logger;
  /** Tasks published per call (and per progress mark). */
  chunkSize?: number;
}

/**
 * The planner: turns a job's request into one task per item on the task topic of its priority.
 * Progress is marked after each chunk, so a request delivered again (after a crash) publishes only
 * what was not published yet; a `retry-failed` round publishes the items that have no result. A job
 * cancelled meanwhile stops being planned. Duplicated tasks are harmless: results are unique per item.
 */
export function jobPlannerHandler(options: JobPlannerOptions): MessageHandler {
  const { store, logger } = options;
  const chunkSize = options.chunkSize ?? 1_000;
  return async (message, signal) => {
    const { type } = message.value;
    if (type !== jobRequestedEventType && type !== jobRetryRequestedEventType) {
      logger.warn({ offset: message.offset, type }, 'not a job request; dropped');
      return;
    }
    const parsed = jobRequestSchema.safeParse(message.value.data);
    if (!parsed.success) {
      logger.warn({ offset: message.offset }, 'an invalid job request; dropped');
      return;
    }
    const { jobId, round } = parsed.data;
    const job = await store.startJob(jobId);
    if (job === undefined || isTerminalJobStatus(job.status)) return;
    if (type === jobRetryRequestedEventType && job.round !== round) return;

    const publish = async (indexes: readonly number[]) => {
      if (signal.aborted) throw new TasksHandedBack();
      if ((await store.status(jobId)) === 'cancelled') return false;
      await options.bus.publish(indexes.map((index) => jobTaskRecord(options.topics, job, index, round)));
      return true;
    };
    const started = performance.now();
    let published = 0;
    if (type === jobRequestedEventType) {
      for (let from = await store.plannedItems(jobId); from < job.counts.total; from += chunkSize) {
        const end = Math.min(job.counts.total, from + chunkSize);
        if (!(await publish(range(from, end)))) break;
        await store.markPlanned(jobId, end);
        published += end - from;
      }
    } else {
      for (let after = -1; ; ) {
        const indexes = await store.unfinishedItems(jobId, after, chunkSize);
        if (indexes.length === 0 || !(await publish(indexes))) break;
        after = indexes.at(-1) as number;
        published += indexes.length;
      }
    }
    logPlanned(logger, job, round, published, performance.now() - started);
  };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

function logPlanned(logger: Logger, job: Job, round: number, tasks: number, ms: number): void {
  logger.info({ jobId: job.id, round, tasks, ms: Math.round(ms), priority: job.priority }, 'job planned');
}
