import { z } from 'zod';
import { vectorLimits } from '../vectors/vector-limits.ts';
import { vectorMetrics } from '../vectors/vector-record.ts';

/** Collection names double as Pinecone index names: the same rules (lowercase, digits, hyphens, ≤45). */
export const collectionNameSchema = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,43}[a-z0-9])?$/, 'must be 1-45 lowercase letters, digits or inner hyphens');

export const collectionBackends = ['embedded', 'pinecone'] as const;
export type CollectionBackend = (typeof collectionBackends)[number];

export const newCollectionSchema = z
  .strictObject({
    name: collectionNameSchema,
    backend: z.enum(collectionBackends).default('embedded'),
    /** Required without an embedding model; with one it is measured from the model (and must agree). */
    dimension: z.number().int().min(1).max(vectorLimits.maxDimension).optional(),
    metric: z.enum(vectorMetrics).default('cosine'),
    /** The model that embeds this collection's texts: `name`, `name@3` or `name:alias`, pinned at creation. */
    embeddingModel: z.string().min(1).max(300).optional(),
    description: z.string().max(2_000).default(''),
  })
  .refine((value) => value.dimension !== undefined || value.embeddingModel !== undefined, {
    message: 'give a dimension, an embeddingModel, or both',
    path: ['dimension'],
  });

export type NewCollection = z.infer<typeof newCollectionSchema>;

/** The model (and its exact version) that produced a collection's vectors. */
export interface EmbeddingLineage {
  model: string;
  version: number;
}

/** A named set of vectors in one project, stored in the embedded index or in Pinecone. */
export interface Collection {
  id: string;
  projectId: string;
  name: string;
  backend: CollectionBackend;
  dimension: number;
  metric: (typeof vectorMetrics)[number];
  /** Null for collections of vectors only (e.g. made through the Pinecone-compatible API). */
  embedding: EmbeddingLineage | null;
  /** The index id in its vector store. */
  storageId: string;
  description: string;
  createdAt: Date;
  updatedAt: Date;
}
