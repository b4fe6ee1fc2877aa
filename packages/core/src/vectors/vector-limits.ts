/**
 * Pinecone's published limits, enforced by every vector store so that what works against the embedded
 * index also works against Pinecone.
 */
export const vectorLimits = {
  maxDimension: 20_000,
  maxIdLength: 512,
  maxTopK: 10_000,
  maxUpsertBatch: 1_000,
  maxFetchIds: 1_000,
  maxDeleteIds: 1_000,
  maxListLimit: 100,
  /** Bytes of a vector's metadata as JSON. */
  maxMetadataBytes: 40_960,
} as const;
