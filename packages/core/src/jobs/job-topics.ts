import { topics } from '../events/topics.ts';

/** The topics the jobs system uses; tests pass their own names to share a broker safely. */
export interface JobTopics {
  /** `jobs/job.requested` and `jobs/job.retry-requested`, keyed by job: read by the planner. */
  requested: string;
  /** One `jobs/task.requested` per item, keyed by job and item so they spread over partitions. */
  tasks: string;
  /** The same, for `high` priority jobs. */
  tasksHigh: string;
  /** Progress and state changes, keyed by job. */
  events: string;
  /** Items that failed after their retries, with the error. */
  dlq: string;
  /** The tasks of ingestion jobs (one per document): read by the process that owns the collections. */
  documents: string;
}

export const defaultJobTopics: JobTopics = {
  requested: topics.jobsRequested,
  tasks: topics.jobsTasks,
  tasksHigh: topics.jobsTasksHigh,
  events: topics.jobsEvents,
  dlq: topics.jobsDlq,
  documents: topics.documents,
};

/**
 * Consumer groups. The task consumers are `ensemble.jobs`, the group whose lag the ECS workers scale
 * on; the planner has a group of its own, so a big plan and the tasks it creates never wait on each
 * other. Tests use their own names.
 */
export interface JobGroups {
  tasks: string;
  planner: string;
  /** The document ingestion runners (in the server process, beside the collections). */
  documents: string;
}

export const defaultJobGroups: JobGroups = {
  tasks: 'ensemble.jobs',
  planner: 'ensemble.jobs.planner',
  documents: 'ensemble.documents',
};
