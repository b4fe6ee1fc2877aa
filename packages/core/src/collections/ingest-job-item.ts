import { z } from 'zod';
import { documentTypes } from './document-chunker.ts';

/**
 * The stored input of one item of an ingestion job: the collection, and the document whose bytes are
 * in the artifact store (uploaded with the request, or fetched from its URL when it was made).
 */
export const ingestJobItemSchema = z.strictObject({
  collection: z.string().min(1),
  document: z.strictObject({
    id: z.string().min(1),
    type: z.enum(documentTypes),
    source: z.string().optional(),
    namespace: z.string().optional(),
    chunkSize: z.number().int().positive(),
    chunkOverlap: z.number().int().nonnegative(),
    /** sha256 of the document's bytes in the artifact store. */
    artifact: z.string().regex(/^[0-9a-f]{64}$/),
  }),
});
export type IngestJobItem = z.infer<typeof ingestJobItemSchema>;

/** Inline texts up to this size are ingested in the request; anything larger, any file and any URL is a job. */
export const inlineIngestMaxBytes = 64 * 1024;
