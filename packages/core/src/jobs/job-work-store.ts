import type { Job } from './job.ts';
import type { JobItemInput } from './job-item.ts';
import type { JobItemResult } from './job-result.ts';

/** What `recordResults` changed. */
export interface RecordedResults {
  /** The job after the write. */
  job: Job;
  /** Results written now; the others already existed (a redelivered task) and were left as they were. */
  written: number;
}

/**
 * Jobs as the workers see them (PostgreSQL). Every write is idempotent, so a task delivered twice,
 * or a batch retried after a crash, changes nothing the first delivery did not.
 */
export interface JobWorkStore {
  /** The job, marked `running` (with its `jobs/job.started` event) if it was `queued`; undefined if unknown. */
  startJob(jobId: string): Promise<Job | undefined>;
  /** Records that tasks for items `0 … plannedItems - 1` are on the bus, so a redelivered request skips them. */
  markPlanned(jobId: string, plannedItems: number): Promise<void>;
  /** How far the first round's planning got. */
  plannedItems(jobId: string): Promise<number>;
  /** Item indexes after `afterIndex` that have no result, in order (for `retry-failed` rounds). */
  unfinishedItems(jobId: string, afterIndex: number, limit: number): Promise<number[]>;
  /** The jobs of a batch of tasks, by id; unknown ids are left out. */
  jobs(jobIds: readonly string[]): Promise<Map<string, Job>>;
  /** The status of a job now (cancellation is noticed through it); undefined if unknown. */
  status(jobId: string): Promise<Job['status'] | undefined>;
  /** The inputs of those items that have no result yet. */
  pendingInputs(jobId: string, indexes: readonly number[]): Promise<Map<number, JobItemInput>>;
  /**
   * Writes results that do not exist yet (one per item, ever), adds them to the job's counts,
   * usage and cost, records a `jobs/job.progressed` event and, when the last item is in, the job's
   * end (`jobs/job.completed`); each failed item goes to the dead-letter topic. One transaction.
   */
  recordResults(jobId: string, results: readonly JobItemResult[]): Promise<RecordedResults>;
  /**
   * Sets how far one item of a running job got (chunks of its document stored, of how many) — the
   * job's progress is the sum over its items — and records a `jobs/job.progressed` event with it.
   * An item run again after a crash reports the same figures again instead of adding to them: an
   * item's `done` never goes back (its chunks are stored under stable ids) and never exceeds its
   * `total`. Nothing for a job that is no longer running.
   */
  reportItemProgress(jobId: string, index: number, progress: { done: number; total: number }): Promise<void>;
  /** The item's work was undone (its chunks removed): its `done` back to 0, whatever the job's status. */
  clearItemProgress(jobId: string, index: number): Promise<void>;
}
