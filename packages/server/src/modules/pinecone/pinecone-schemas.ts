import { collectionNameSchema, vectorMetrics } from '@ensemble/core';
import { z } from 'zod';

const metadataValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]);
const metadata = z.record(z.string(), metadataValue);
const filter = z.record(z.string(), z.unknown());
const namespace = z.string().max(512).optional();
const noSparse = z
  .unknown()
  .optional()
  .refine((value) => value === undefined || value === null, 'sparse vectors are not supported by this index');

export const indexParamsSchema = z.strictObject({ index: collectionNameSchema });

/** Both create shapes: the older one (dimension/metric/spec) and 2026-07's (schema/deployment). */
export const createIndexBodySchema = z
  .object({
    name: collectionNameSchema,
    dimension: z.number().int().min(1).max(20_000).optional(),
    metric: z.enum(vectorMetrics).optional(),
    vector_type: z.literal('dense').optional(),
    spec: z.record(z.string(), z.unknown()).optional(),
    schema: z
      .object({
        fields: z.record(
          z.string(),
          z.object({
            type: z.string(),
            dimension: z.number().int().min(1).max(20_000).optional(),
            metric: z.enum(vectorMetrics).optional(),
          }),
        ),
      })
      .optional(),
    deployment: z.record(z.string(), z.unknown()).optional(),
    deletion_protection: z.enum(['enabled', 'disabled']).optional(),
    tags: z.record(z.string(), z.string()).optional(),
  })
  .meta({ id: 'PineconeCreateIndex' });

export const upsertBodySchema = z.object({
  vectors: z
    .array(
      z.object({ id: z.string(), values: z.array(z.number()), metadata: metadata.optional(), sparseValues: noSparse }),
    )
    .min(1, 'send at least one vector'),
  namespace,
});

export const queryBodySchema = z.object({
  namespace,
  topK: z.number().int(),
  filter: filter.optional(),
  includeValues: z.boolean().optional(),
  includeMetadata: z.boolean().optional(),
  vector: z.array(z.number()).optional(),
  id: z.string().optional(),
  sparseVector: noSparse,
});

export const fetchQuerySchema = z.object({
  ids: z.union([z.string(), z.array(z.string())]).transform((ids) => (Array.isArray(ids) ? ids : [ids])),
  namespace,
});

export const updateBodySchema = z.object({
  id: z.string(),
  values: z.array(z.number()).optional(),
  setMetadata: metadata.optional(),
  namespace,
  sparseValues: noSparse,
});

export const deleteBodySchema = z.object({
  ids: z.array(z.string()).optional(),
  deleteAll: z.boolean().optional(),
  namespace,
  filter: filter.optional(),
});

export const listQuerySchema = z.object({
  prefix: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).optional(),
  paginationToken: z.string().max(2_048).optional(),
  namespace,
});

export const statsBodySchema = z.object({ filter: filter.optional() }).optional();
