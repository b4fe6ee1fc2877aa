import {
  idempotencyKeySchema,
  type Job,
  jobIdPattern,
  jobPriorities,
  jobSources,
  jobStatuses,
  jobTargetTypes,
  jobTypes,
  pendingItems,
} from '@ensemble/core';
import { z } from 'zod';

export const jobSchema = z
  .object({
    id: z.string(),
    object: z.literal('job'),
    type: z.enum(jobTypes),
    status: z.enum(jobStatuses),
    model: z
      .string()
      .meta({ description: 'The model or route (or, for pipeline-run, the pipeline) as the submission named it' }),
    target: z
      .object({ type: z.enum(jobTargetTypes), name: z.string(), version: z.number().int(), kind: z.string() })
      .meta({
        description:
          'The model version every item runs on, or the route version whose policy runs each item (pinned at submission)',
      }),
    priority: z.enum(jobPriorities),
    itemTimeoutMs: z.number().int(),
    retry: z.object({ maxAttempts: z.number().int(), initialDelayMs: z.number().int(), maxDelayMs: z.number().int() }),
    webhook: z
      .object({
        url: z.string(),
        status: z.enum(['pending', 'delivered', 'failed']).nullable().meta({
          description: 'null while the job runs; pending from its end until the summary is taken (or given up: failed)',
        }),
        attempts: z.number().int(),
        lastError: z.string().nullable(),
        deliveredAt: z.iso.datetime().nullable(),
      })
      .nullable(),
    metadata: z.record(z.string(), z.string()),
    idempotencyKey: z.string().nullable(),
    source: z.enum(jobSources),
    counts: z.object({
      total: z.number().int(),
      succeeded: z.number().int(),
      failed: z.number().int(),
      pending: z
        .number()
        .int()
        .meta({ description: 'Items without a result: waiting, running, or never run (cancelled)' }),
    }),
    usage: z.object({
      inputTokens: z.number().int(),
      outputTokens: z.number().int(),
      costUsd: z.number().nullable().meta({ description: 'So far, from the model’s pricing; null without one' }),
    }),
    progress: z
      .object({ unit: z.literal('chunks'), done: z.number().int(), total: z.number().int() })
      .nullable()
      .meta({
        description:
          'Ingestion jobs: chunks embedded and upserted of those known so far (total grows as documents are parsed); null for other jobs',
      }),
    round: z.number().int().meta({ description: '1, then one more per retry-failed' }),
    createdAt: z.iso.datetime(),
    startedAt: z.iso.datetime().nullable(),
    finishedAt: z.iso.datetime().nullable(),
    cancelledAt: z.iso.datetime().nullable(),
    durationMs: z.number().int().nullable().meta({ description: 'From start to finish (or to now while running)' }),
  })
  .meta({ id: 'Job' });

export const jobListSchema = z
  .object({ data: z.array(jobSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'JobList' });

export const jobParamsSchema = z.strictObject({
  id: z.string().regex(jobIdPattern, 'must be a job id such as job_AbCdEfGhIjKlMnOpQrSt'),
});

export const listJobsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  after: z.string().max(100).optional(),
  status: z.enum(jobStatuses).optional(),
  type: z.enum(jobTypes).optional(),
  model: z.string().min(1).max(300).optional(),
});

export const resultsQuerySchema = z.strictObject({
  status: z.enum(['succeeded', 'failed']).optional(),
});

export const submitHeadersSchema = z.object({
  'idempotency-key': idempotencyKeySchema.optional(),
});

export const eventsHeadersSchema = z.object({
  'last-event-id': z
    .string()
    .regex(/^\d{1,15}$/, 'must be the id of an event this stream sent')
    .optional(),
});

export const eventsQuerySchema = z.strictObject({
  after: z.coerce.number().int().nonnegative().optional(),
});

export const webhookSecretSchema = z
  .object({ secret: z.string(), algorithm: z.literal('HMAC-SHA256'), header: z.literal('Ensemble-Signature') })
  .meta({ id: 'WebhookSecret' });

export function jobJson(job: Job, now = Date.now()) {
  const end = job.finishedAt?.getTime() ?? now;
  return {
    id: job.id,
    object: 'job' as const,
    type: job.type,
    status: job.status,
    model: job.model,
    target: { ...job.target },
    priority: job.priority,
    itemTimeoutMs: job.itemTimeoutMs,
    retry: { ...job.retry },
    webhook:
      job.webhook === null ? null : { ...job.webhook, deliveredAt: job.webhook.deliveredAt?.toISOString() ?? null },
    metadata: job.metadata,
    idempotencyKey: job.idempotencyKey,
    source: job.source,
    counts: { ...job.counts, pending: pendingItems(job.counts) },
    usage: { ...job.usage },
    progress: job.progress === null ? null : { ...job.progress },
    round: job.round,
    createdAt: job.createdAt.toISOString(),
    startedAt: job.startedAt?.toISOString() ?? null,
    finishedAt: job.finishedAt?.toISOString() ?? null,
    cancelledAt: job.cancelledAt?.toISOString() ?? null,
    durationMs: job.startedAt === null ? null : Math.max(0, Math.round(end - job.startedAt.getTime())),
  };
}
