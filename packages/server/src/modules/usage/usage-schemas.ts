import { type RecordedUsage, usageBuckets, usageGroupings } from '@ensemble/core';
import { z } from 'zod';

const instant = z.iso
  .datetime({ offset: true })
  .meta({ description: 'ISO 8601 with an offset, e.g. 2026-11-15T10:00:00Z' });

/** `a,b` or the parameter repeated. */
const groupList = z
  .union([z.string(), z.array(z.string())])
  .transform((value) =>
    (Array.isArray(value) ? value : [value])
      .flatMap((item) => item.split(','))
      .map((item) => item.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.enum(usageGroupings)).max(usageGroupings.length));

const filters = {
  model: z.string().min(1).max(500).optional().meta({ description: 'The target that answered, `name@version`' }),
  requested: z.string().min(1).max(500).optional().meta({ description: 'The model or route name the client sent' }),
  route: z.string().min(1).max(500).optional(),
  key: z.string().min(1).max(200).optional().meta({ description: 'An API key id' }),
  status: z.coerce.number().int().min(100).max(599).optional().meta({ description: 'The HTTP status sent' }),
};

export const usageQuerySchema = z.strictObject({
  from: instant.optional().meta({ description: 'Start, inclusive; default `to` minus 24 hours' }),
  to: instant.optional().meta({ description: 'End, exclusive; default now' }),
  bucket: z.enum(usageBuckets).default('hour').meta({
    description:
      'Width of a series row (UTC). The range may span at most 24 h by minute, 31 days by hour, 400 days by day',
  }),
  groupBy: groupList.optional().meta({
    description: `Split the series by any of ${usageGroupings.join(', ')} (comma-separated or repeated); \`model\` is the target that answered`,
  }),
  ...filters,
});

export const usageRecordsQuerySchema = z.strictObject({
  from: instant.optional().meta({ description: 'Start, inclusive; default `to` minus 24 hours' }),
  to: instant.optional().meta({ description: 'End, exclusive; default now' }),
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
  after: z.string().min(1).max(1_000).optional().meta({ description: "The previous page's nextCursor" }),
  ...filters,
});

const figures = {
  requests: z.number().int(),
  errors: z
    .number()
    .int()
    .meta({ description: 'Calls that ended with an error code (failed status, broken stream, client gone)' }),
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  costUsd: z.number().meta({ description: "From the registry's pricing; calls to unpriced models count 0" }),
  latencyP50Ms: z.number().nullable(),
  latencyP95Ms: z.number().nullable(),
  timeToFirstTokenP50Ms: z.number().nullable().meta({ description: 'Streams only' }),
  cacheHits: z.number().int(),
};

export const usageFiguresSchema = z.object(figures).meta({ id: 'UsageFigures' });

export const usageSummarySchema = z
  .object({
    from: z.iso.datetime(),
    to: z.iso.datetime(),
    bucket: z.enum(usageBuckets),
    groupBy: z.array(z.enum(usageGroupings)),
    projectId: z.string().nullable().meta({ description: 'The project counted; null: every project (admin keys)' }),
    totals: usageFiguresSchema,
    series: z.array(
      z.object({
        bucketStart: z.iso.datetime(),
        group: z.record(z.string(), z.union([z.string(), z.number(), z.null()])).meta({
          description: 'The value of each groupBy field',
        }),
        ...figures,
      }),
    ),
  })
  .meta({ id: 'UsageSummary' });

export const usageRecordSchema = z
  .object({
    eventId: z.string(),
    requestId: z.string(),
    ts: z.iso.datetime(),
    projectId: z.string(),
    keyId: z.string().nullable(),
    endpoint: z.enum(['chat', 'embeddings', 'invoke', 'responses']),
    requested: z.string(),
    route: z.string().nullable(),
    target: z.string().nullable(),
    provider: z.string().nullable(),
    inputTokens: z.number().int(),
    outputTokens: z.number().int(),
    costUsd: z.number().nullable(),
    latencyMs: z.number(),
    timeToFirstTokenMs: z.number().nullable(),
    stream: z.boolean(),
    status: z.number().int(),
    errorCode: z.string().nullable(),
    cacheHit: z.boolean(),
    attempts: z.number().int(),
    /** A routed call's attempts in order; absent for a plain model. */
    trace: z
      .array(
        z.object({
          target: z.string(),
          path: z.string(),
          attempt: z.number().int(),
          outcome: z.string(),
          status: z.number().int().nullable(),
          errorCode: z.string().nullable(),
          latencyMs: z.number(),
          retryDelayMs: z.number(),
        }),
      )
      .optional(),
  })
  .meta({ id: 'UsageRecord' });

export const usageRecordListSchema = z
  .object({ data: z.array(usageRecordSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'UsageRecordList' });

export function usageRecordJson(record: RecordedUsage) {
  return { ...record, ts: new Date(record.ts).toISOString() };
}
