import type { MetadataFilterInput } from './metadata-filter.ts';
import type { VectorMetadata, VectorMetric, VectorRecord } from './vector-record.ts';

/** What an index is made with; neither changes afterwards. */
export interface VectorIndexSpec {
  dimension: number;
  metric: VectorMetric;
}

export interface VectorQuery {
  /** `""` (or `"__default__"`) is the default namespace. */
  namespace?: string;
  topK: number;
  /** Exactly one of `vector` and `id` (query by the stored vector of that id). */
  vector?: number[];
  id?: string;
  /** Pinecone's metadata filter language (see `compileMetadataFilter`). */
  filter?: MetadataFilterInput;
  includeValues?: boolean;
  includeMetadata?: boolean;
}

export interface VectorMatch {
  id: string;
  /** Cosine similarity or dot product (higher is closer), or squared Euclidean distance (lower is closer). */
  score: number;
  values?: number[];
  metadata?: VectorMetadata;
}

export interface VectorUpdate {
  namespace?: string;
  id: string;
  values?: number[];
  /** Keys set on the vector's metadata (others kept), as Pinecone's `setMetadata`. */
  setMetadata?: VectorMetadata;
}

export type VectorDeletion =
  | { namespace?: string; ids: string[] }
  | { namespace?: string; filter: MetadataFilterInput }
  | { namespace?: string; deleteAll: true };

export interface VectorIdPage {
  ids: string[];
  /** Pass back as `paginationToken` for the next page; absent on the last one. */
  next?: string;
}

export interface VectorIndexStats {
  dimension: number;
  metric: VectorMetric;
  totalVectorCount: number;
  /** Keyed by namespace name (`""` is the default). */
  namespaces: Record<string, { vectorCount: number }>;
}

/**
 * One index: vectors grouped into namespaces. Writes are acknowledged once durable; what is
 * acknowledged is seen by the next read (deletes and updates included). Inputs are checked against
 * the index's dimension and Pinecone's limits (`validation_failed` naming the field).
 */
export interface VectorIndex {
  upsert(records: readonly VectorRecord[], namespace?: string): Promise<{ upsertedCount: number }>;
  /** The closest `topK` (fewer only when fewer match the filter), closest first. */
  query(query: VectorQuery): Promise<VectorMatch[]>;
  /** The vectors that exist among `ids`; missing ids are left out. */
  fetch(ids: readonly string[], namespace?: string): Promise<VectorRecord[]>;
  /** `not_found` when the id does not exist. */
  update(update: VectorUpdate): Promise<void>;
  delete(deletion: VectorDeletion): Promise<void>;
  /** Ids in lexical order, optionally only those starting with `prefix`. */
  listIds(options: {
    namespace?: string;
    prefix?: string;
    limit?: number;
    paginationToken?: string;
  }): Promise<VectorIdPage>;
  stats(filter?: MetadataFilterInput): Promise<VectorIndexStats>;
}

/**
 * Where vectors live: the embedded index (PostgreSQL + HNSW) or Pinecone. An index is named by an
 * opaque id the caller chooses (a collection's storage id); the store keeps no other registry.
 */
export interface VectorStore {
  /** `conflict` when it exists. */
  createIndex(indexId: string, spec: VectorIndexSpec): Promise<void>;
  /** Removes the index and every vector in it; `not_found` when absent. */
  dropIndex(indexId: string): Promise<void>;
  /** A handle; operations on an index that does not exist are `not_found`. */
  index(indexId: string): VectorIndex;
  close(): Promise<void>;
}
