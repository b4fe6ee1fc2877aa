/** A metadata value as Pinecone stores it: a string, a number, a boolean or a list of strings. */
export type MetadataValue = string | number | boolean | string[];

export type VectorMetadata = Record<string, MetadataValue>;

/** One stored vector: a unique id within its namespace, its values and optional metadata. */
export interface VectorRecord {
  id: string;
  values: number[];
  metadata?: VectorMetadata;
}

/** The metrics an index compares vectors with (Pinecone's names). */
export const vectorMetrics = ['cosine', 'dotproduct', 'euclidean'] as const;
export type VectorMetric = (typeof vectorMetrics)[number];

/** `""` and `"__default__"` name the same namespace (Pinecone's two spellings of the default). */
export function canonicalNamespace(namespace: string | undefined): string {
  return namespace === undefined || namespace === '__default__' ? '' : namespace;
}
