import type { Page } from '../ports/project-repository.ts';
import type { Job, JobPriority, JobRetryPolicy, JobSource, JobStatus, JobTarget, JobType } from './job.ts';
import type { JobEvent } from './job-events.ts';
import type { JobItemInput } from './job-item.ts';
import type { JobItemStatus, StoredJobItemResult } from './job-result.ts';

/** A job as the API submits it, its model already resolved and its inputs checked. */
export interface NewJob {
  projectId: string;
  type: JobType;
  model: string;
  target: JobTarget;
  priority: JobPriority;
  itemTimeoutMs: number;
  retry: JobRetryPolicy;
  webhook: { url: string } | null;
  metadata: Record<string, string>;
  idempotencyKey: string | null;
  /** sha256 of the submission (inputs included), so a reused idempotency key with another request is refused. */
  requestSha256: string;
  source: JobSource;
  sourceDetails: Record<string, unknown> | null;
  createdBy: string | null;
}

export interface SubmittedJob {
  job: Job;
  /** False when the idempotency key named a job that already existed (nothing new was queued). */
  created: boolean;
}

export interface JobListOptions {
  limit: number;
  /** The last job id of the previous page. */
  after?: string;
  status?: JobStatus;
  type?: JobType;
  /** The model name as submitted. */
  model?: string;
  source?: JobSource;
}

export interface JobResultsOptions {
  /** Results with an index above this one (paging through a download). */
  afterIndex?: number;
  limit: number;
  status?: JobItemStatus;
}

/**
 * Jobs as the API sees them (PostgreSQL). A submission writes the job, its items and its
 * `jobs/job.requested` record (through the outbox) in one transaction: a job exists with its whole
 * input and its request, or not at all. Unknown ids throw `not_found`.
 */
export interface JobRepository {
  /**
   * Stores the job with its items, read chunk by chunk (an uploaded file is read while it is
   * written, so an invalid line rolls everything back). With an idempotency key that already names a
   * job of the project, returns that job without reading the items (`conflict` when its request differs).
   */
  submit(job: NewJob, items: AsyncIterable<readonly JobItemInput[]>): Promise<SubmittedJob>;
  get(projectId: string, id: string): Promise<Job>;
  /** Newest first. */
  list(projectId: string, options: JobListOptions): Promise<Page<Job>>;
  /** Stops a queued or running job (items not yet run never are). Cancelling a cancelled job changes nothing; a finished one is a `conflict`. */
  cancel(projectId: string, id: string, actor: string | null): Promise<Job>;
  /**
   * Runs the failed items again: their results are removed and their tasks planned anew (round + 1).
   * Only for `completed_with_errors` jobs (`conflict` otherwise).
   */
  retryFailed(projectId: string, id: string, actor: string | null): Promise<Job>;
  /** Results in item order. */
  results(projectId: string, id: string, options: JobResultsOptions): Promise<StoredJobItemResult[]>;
  /** The job's events after `afterSeq`, oldest first. */
  events(projectId: string, id: string, afterSeq: number, limit: number): Promise<JobEvent[]>;
}
