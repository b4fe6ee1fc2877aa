import { type Job, pendingItems } from './job.ts';

/**
 * What a job's webhook says about it: who it is, how it ended, its counts, usage and timings, and
 * where its results are. Plain JSON, the same fields the API answers with.
 */
export function jobSummary(job: Job) {
  return {
    id: job.id,
    object: 'job' as const,
    type: job.type,
    status: job.status,
    model: job.model,
    target: { ...job.target },
    round: job.round,
    counts: { ...job.counts, pending: pendingItems(job.counts) },
    usage: { ...job.usage },
    metadata: job.metadata,
    createdAt: job.createdAt.toISOString(),
    startedAt: job.startedAt?.toISOString() ?? null,
    finishedAt: job.finishedAt?.toISOString() ?? null,
    /** Relative to the API's base URL. */
    results: `/api/jobs/${job.id}/results`,
  };
}

export type JobSummary = ReturnType<typeof jobSummary>;

/**
 * The body of a job webhook: the same bytes on every attempt of one delivery (its `id` lets a receiver
 * drop repeats), a new `id` for the next round of the job. `createdAt` is when the job ended.
 */
export function jobWebhookBody(job: Job) {
  return {
    id: `${job.id}.${job.round}`,
    type: job.status === 'cancelled' ? ('job.cancelled' as const) : ('job.completed' as const),
    createdAt: (job.finishedAt ?? job.createdAt).toISOString(),
    data: jobSummary(job),
  };
}
