import { collectionNameSchema, documentTypes, newCollectionSchema, vectorLimits } from '@ensemble/core';
import { z } from 'zod';

export const metadataValueSchema = z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]);
export const metadataSchema = z.record(z.string(), metadataValueSchema);
/** Checked in depth by core's filter compiler (which names the bad operator). */
export const filterSchema = z.record(z.string(), z.unknown());

export const collectionSchema = z
  .object({
    name: z.string(),
    projectId: z.string(),
    backend: z.enum(['embedded', 'pinecone']),
    dimension: z.number(),
    metric: z.enum(['cosine', 'dotproduct', 'euclidean']),
    embedding: z.object({ model: z.string(), version: z.number() }).nullable(),
    description: z.string(),
    vectorCount: z.number().optional(),
    namespaces: z.record(z.string(), z.object({ vectorCount: z.number() })).optional(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Collection' });

export const collectionListSchema = z
  .object({ data: z.array(collectionSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'CollectionList' });

export const listCollectionsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  after: z.string().max(200).optional(),
});

export const collectionParamsSchema = z.strictObject({ name: collectionNameSchema });

export const newCollectionBodySchema = newCollectionSchema.meta({ id: 'NewCollection' });

const vectorSchema = z.strictObject({
  id: z.string().min(1).max(vectorLimits.maxIdLength),
  values: z.array(z.number()),
  metadata: metadataSchema.optional(),
});

const textRecordSchema = z.strictObject({
  id: z.string().min(1).max(vectorLimits.maxIdLength),
  text: z.string().min(1).max(100_000),
  metadata: metadataSchema.optional(),
});

export const upsertBodySchema = z
  .strictObject({
    namespace: z.string().max(512).optional(),
    vectors: z.array(vectorSchema).min(1).max(vectorLimits.maxUpsertBatch).optional(),
    /** Texts embedded with the collection's model (its text kept in metadata `text`). */
    records: z.array(textRecordSchema).min(1).max(vectorLimits.maxUpsertBatch).optional(),
    /** Optional: must name the collection's own model. */
    model: z.string().min(1).max(300).optional(),
  })
  .refine((body) => (body.vectors === undefined) !== (body.records === undefined), {
    message: 'send exactly one of vectors and records',
    path: ['vectors'],
  })
  .meta({ id: 'CollectionUpsert' });

export const upsertResultSchema = z.object({ upsertedCount: z.number() }).meta({ id: 'CollectionUpsertResult' });

export const searchBodySchema = z
  .strictObject({
    text: z.string().min(1).max(100_000).optional(),
    vector: z.array(z.number()).optional(),
    topK: z.number().int().min(1).max(vectorLimits.maxTopK).default(10),
    namespace: z.string().max(512).optional(),
    filter: filterSchema.optional(),
    includeValues: z.boolean().default(false),
    includeMetadata: z.boolean().default(true),
    model: z.string().min(1).max(300).optional(),
    /** Maximal marginal relevance: re-rank `fetchK` candidates trading relevance (λ) against diversity. */
    mmr: z
      .strictObject({
        lambda: z.number().min(0).max(1).default(0.5),
        fetchK: z.number().int().min(1).max(1_000).default(20),
      })
      .optional(),
  })
  .refine((body) => (body.text === undefined) !== (body.vector === undefined), {
    message: 'send exactly one of text and vector',
    path: ['text'],
  })
  .meta({ id: 'CollectionSearch' });

export const matchSchema = z.object({
  id: z.string(),
  score: z.number(),
  values: z.array(z.number()).optional(),
  metadata: metadataSchema.optional(),
});

export const searchResultSchema = z
  .object({ matches: z.array(matchSchema), namespace: z.string() })
  .meta({ id: 'CollectionSearchResult' });

export const deleteVectorsBodySchema = z
  .strictObject({
    namespace: z.string().max(512).optional(),
    ids: z.array(z.string().min(1).max(vectorLimits.maxIdLength)).min(1).max(vectorLimits.maxDeleteIds).optional(),
    filter: filterSchema.optional(),
    deleteAll: z.literal(true).optional(),
  })
  .refine((body) => [body.ids, body.filter, body.deleteAll].filter((x) => x !== undefined).length === 1, {
    message: 'send exactly one of ids, filter and deleteAll',
    path: ['ids'],
  })
  .meta({ id: 'CollectionDeleteVectors' });

export const ingestBodySchema = z
  .strictObject({
    /** Re-ingesting the same id replaces the document's chunks. */
    id: z
      .string()
      .min(1)
      .max(400)
      .regex(/^[^#]+$/, "must not contain '#'"),
    source: z.string().max(2_000).optional(),
    /** Required with text and base64; with url, taken from the answer's content-type (or the URL) when left out. */
    type: z.enum(documentTypes).optional(),
    /** The document as text (text, Markdown, HTML), or its bytes in base64 (any type; PDF needs this). */
    text: z.string().min(1).optional(),
    base64: z.base64().min(1).optional(),
    /** Or where to fetch it (http/https; internal addresses refused unless OUTBOUND_ALLOWED_NETWORKS allows them). */
    url: z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
      .max(2_000)
      .optional(),
    chunkSize: z.number().int().min(50).max(20_000).default(1_000),
    chunkOverlap: z.number().int().min(0).max(10_000).default(200),
    namespace: z.string().max(512).optional(),
  })
  .refine((body) => [body.text, body.base64, body.url].filter((x) => x !== undefined).length === 1, {
    message: 'send exactly one of text, base64 and url',
    path: ['text'],
  })
  .refine((body) => body.url !== undefined || body.type !== undefined, {
    message: 'required with text or base64',
    path: ['type'],
  })
  .meta({ id: 'CollectionDocument' });

export const ingestQuerySchema = z.strictObject({
  /** `true`: ingest in the request and answer with the result (200), whatever the document's size. */
  wait: z.enum(['true', 'false']).optional(),
});

export const ingestAcceptedSchema = z
  .object({
    object: z.literal('ingestion'),
    documentId: z.string(),
    jobId: z
      .string()
      .meta({ description: 'The embed job ingesting the document: follow /api/jobs/{id} and its events' }),
    status: z.string(),
  })
  .meta({ id: 'CollectionIngestAccepted' });

export const ingestResultSchema = z
  .object({ documentId: z.string(), chunks: z.number(), removed: z.number() })
  .meta({ id: 'CollectionIngestResult' });

export const documentParamsSchema = z.strictObject({ name: collectionNameSchema, id: z.string().min(1).max(400) });
export const documentDeleteQuerySchema = z.strictObject({ namespace: z.string().max(512).optional() });
