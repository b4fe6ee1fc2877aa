/** The job types Ensemble runs: model calls, embeddings, and a pipeline run per item. */
export const jobTypes = ['batch-inference', 'embed', 'pipeline-run'] as const;
export type JobType = (typeof jobTypes)[number];

/**
 * A job's life: `queued` once submitted, `running` once the planner has started handing out its
 * items, then one of the terminal states. `completed_with_errors` means every item ran and some
 * failed after their retries (their errors are in the results and on `ensemble.jobs.dlq`).
 */
export const jobStatuses = ['queued', 'running', 'completed', 'completed_with_errors', 'cancelled'] as const;
export type JobStatus = (typeof jobStatuses)[number];

const terminal: ReadonlySet<JobStatus> = new Set(['completed', 'completed_with_errors', 'cancelled']);

export function isTerminalJobStatus(status: JobStatus): boolean {
  return terminal.has(status);
}

/**
 * `high` jobs get a task topic of their own (`ensemble.jobs.tasks.high`), so they are not queued
 * behind the backlog of normal ones, and their items take free model-call slots first.
 */
export const jobPriorities = ['normal', 'high'] as const;
export type JobPriority = (typeof jobPriorities)[number];

/**
 * Where a job came from: the jobs API, OpenAI's Batch API mapped onto it, or a collection's document
 * ingestion (`embed` jobs whose items are documents, run by the process that owns the collections).
 */
export const jobSources = ['api', 'openai-batch', 'ingest'] as const;
export type JobSource = (typeof jobSources)[number];

/** How an item that failed is tried again (in the worker, with exponential backoff and jitter). */
export interface JobRetryPolicy {
  /** Tries in all, the first included (1 = no retry). */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

/**
 * What the items of a job call: a pipeline (`pipeline-run` jobs), a model, or a route (its policy picks the model of each item, with its
 * fallbacks and retries, as `/v1` does), pinned to the version the name resolved to at submission, so
 * every item of a job runs the same model or the same route version even if an alias or route moves.
 */
export interface JobTarget {
  type: JobTargetType;
  name: string;
  version: number;
  /** What an item's body must look like (`chat`: messages, `embedding`: input, `pipeline`: the pipeline's input). */
  kind: JobTargetKind;
}

/** A job's completion webhook: `pending` from the job's end until a delivery is taken (`delivered`) or given up (`failed`). */
export interface JobWebhook {
  url: string;
  /** Null while the job runs. */
  status: 'pending' | 'delivered' | 'failed' | null;
  attempts: number;
  lastError: string | null;
  deliveredAt: Date | null;
}

export const jobTargetTypes = ['model', 'route', 'pipeline'] as const;
export type JobTargetType = (typeof jobTargetTypes)[number];

export const jobModelKinds = ['chat', 'embedding'] as const;
export type JobModelKind = (typeof jobModelKinds)[number];
export type JobTargetKind = JobModelKind | 'pipeline';

export interface JobCounts {
  total: number;
  succeeded: number;
  failed: number;
}

/**
 * Finer progress than items, for jobs whose items are large (an ingested document is one item of
 * thousands of chunks): units done and known so far; `total` grows as documents are parsed.
 */
export interface JobProgress {
  unit: 'chunks';
  done: number;
  total: number;
}

export interface JobUsage {
  inputTokens: number;
  outputTokens: number;
  /** US dollars, from the model's pricing; null when the model has no price. */
  costUsd: number | null;
}

export interface Job {
  /** `job_` and 20 base62 characters. */
  id: string;
  projectId: string;
  type: JobType;
  status: JobStatus;
  /** The model name as the submission gave it (`m`, `m@2`, `m:prod`). */
  model: string;
  target: JobTarget;
  priority: JobPriority;
  /** Bounds one call of one item; a timed-out call counts as a failed (retryable) attempt. */
  itemTimeoutMs: number;
  retry: JobRetryPolicy;
  /** Where the job's summary is POSTed when it ends, and how that delivery is going. */
  webhook: JobWebhook | null;
  metadata: Record<string, string>;
  idempotencyKey: string | null;
  source: JobSource;
  /** What the source needs to show the job in its own shape (OpenAI's batch fields). */
  sourceDetails: Record<string, unknown> | null;
  counts: JobCounts;
  usage: JobUsage;
  /** Chunks embedded of those known, for ingestion jobs; null for the others. */
  progress: JobProgress | null;
  /** 1, then one more per `retry-failed`. */
  round: number;
  /** The API key that submitted it. */
  createdBy: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  cancelledAt: Date | null;
}

/** Items without a result yet (running, waiting, or never run because the job was cancelled). */
export function pendingItems(counts: JobCounts): number {
  return Math.max(0, counts.total - counts.succeeded - counts.failed);
}
