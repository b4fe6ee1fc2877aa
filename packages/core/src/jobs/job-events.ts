import { z } from 'zod';
import { createEvent } from '../events/event-envelope.ts';
import type { PublishRecord } from '../ports/event-bus.ts';
import type { Job, JobStatus } from './job.ts';
import { jobStatuses } from './job.ts';
import { jobIdPattern } from './job-id.ts';
import type { JobItemError } from './job-result.ts';
import type { JobTopics } from './job-topics.ts';

/** On `requested`: plan a job's items (a new job), or its items without a result (`retry-failed`). */
export const jobRequestedEventType = 'jobs/job.requested';
export const jobRetryRequestedEventType = 'jobs/job.retry-requested';
/** On `tasks`: run one item. */
export const jobTaskEventType = 'jobs/task.requested';
/** On `dlq`: an item failed after its retries. */
export const jobItemFailedEventType = 'jobs/item.failed';

/** On `events`: what happened to a job, numbered per job (`seq`) so a watcher can resume. */
export const jobEventTypes = {
  queued: 'jobs/job.queued',
  started: 'jobs/job.started',
  progressed: 'jobs/job.progressed',
  completed: 'jobs/job.completed',
  cancelled: 'jobs/job.cancelled',
  retried: 'jobs/job.retried',
} as const;
export type JobEventType = (typeof jobEventTypes)[keyof typeof jobEventTypes];

const jobId = z.string().regex(jobIdPattern, 'must be a job id');

export const jobRequestSchema = z.strictObject({ jobId, round: z.number().int().positive() });
export type JobRequest = z.infer<typeof jobRequestSchema>;

export const jobTaskSchema = z.strictObject({
  jobId,
  index: z.number().int().nonnegative(),
  round: z.number().int().positive(),
});
export type JobTask = z.infer<typeof jobTaskSchema>;

export const jobEventDataSchema = z.strictObject({
  jobId,
  /** 1, 2, 3 … per job: the SSE event id. */
  seq: z.number().int().positive(),
  status: z.enum(jobStatuses),
  counts: z.strictObject({
    total: z.number().int().nonnegative(),
    succeeded: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
  }),
  usage: z.strictObject({
    inputTokens: z.number().int().nonnegative(),
    outputTokens: z.number().int().nonnegative(),
    costUsd: z.number().nonnegative().nullable(),
  }),
  /** Chunks embedded of those known so far (ingestion jobs only). */
  progress: z
    .strictObject({
      unit: z.literal('chunks'),
      done: z.number().int().nonnegative(),
      total: z.number().int().nonnegative(),
    })
    .optional(),
  at: z.iso.datetime({ offset: true }),
});
export type JobEventData = z.infer<typeof jobEventDataSchema>;

/** A job event as stored and streamed: its type and the job's state right after it. */
export interface JobEvent {
  type: JobEventType;
  data: JobEventData;
}

export interface JobItemFailure {
  jobId: string;
  index: number;
  customId: string | null;
  round: number;
  attempts: number;
  error: JobItemError;
}

/** The event `type` records at `seq`, with the job's counts as they now are. */
export function jobEvent(type: JobEventType, job: Job, seq: number, at: Date = new Date()): JobEvent {
  return {
    type,
    data: {
      jobId: job.id,
      seq,
      status: job.status,
      counts: { ...job.counts },
      usage: { ...job.usage },
      ...(job.progress === null ? {} : { progress: { ...job.progress } }),
      at: at.toISOString(),
    },
  };
}

/** The record of a job event on the events topic (keyed by job, so a job's events stay in order). */
export function jobEventRecord(topics: JobTopics, job: Job, event: JobEvent): PublishRecord<JobEventData> {
  return {
    topic: topics.events,
    key: job.id,
    value: createEvent({ type: event.type, projectId: job.projectId, traceId: job.id, data: event.data }),
  };
}

export function jobRequestRecord(
  topics: JobTopics,
  job: Pick<Job, 'id' | 'projectId'>,
  round: number,
  type: typeof jobRequestedEventType | typeof jobRetryRequestedEventType,
): PublishRecord<JobRequest> {
  return {
    topic: topics.requested,
    key: job.id,
    value: createEvent({ type, projectId: job.projectId, traceId: job.id, data: { jobId: job.id, round } }),
  };
}

/**
 * One item's task. Keyed by job and item, so the items of one job spread over every partition (and
 * so over every worker) instead of queueing on one. Ingestion jobs' tasks go to the documents topic,
 * read only by the process that owns the collections.
 */
export function jobTaskRecord(
  topics: JobTopics,
  job: Pick<Job, 'id' | 'projectId' | 'priority' | 'source'>,
  index: number,
  round: number,
): PublishRecord<JobTask> {
  return {
    topic: job.source === 'ingest' ? topics.documents : job.priority === 'high' ? topics.tasksHigh : topics.tasks,
    key: `${job.id}:${index}`,
    value: createEvent({
      type: jobTaskEventType,
      projectId: job.projectId,
      traceId: job.id,
      data: { jobId: job.id, index, round },
    }),
  };
}

export function jobItemFailedRecord(
  topics: JobTopics,
  projectId: string,
  failure: JobItemFailure,
): PublishRecord<JobItemFailure> {
  return {
    topic: topics.dlq,
    key: `${failure.jobId}:${failure.index}`,
    value: createEvent({ type: jobItemFailedEventType, projectId, traceId: failure.jobId, data: failure }),
  };
}

/** The status a job ends in once every item has a result. */
export function finishedStatus(failed: number): JobStatus {
  return failed > 0 ? 'completed_with_errors' : 'completed';
}
