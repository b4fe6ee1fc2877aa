import { resolve } from 'node:path';
import { PineconeVectorStore } from '@ensemble/adapters/pinecone';
import type { Database } from '@ensemble/adapters/postgres';
import { PostgresCollectionRepository } from '@ensemble/adapters/postgres';
import { EmbeddedVectorStore } from '@ensemble/adapters/vectors';
import {
  CollectionService,
  type EnsembleConfig,
  type Logger,
  type ModelRuntimeManager,
  RuntimeTextEmbedder,
} from '@ensemble/core';

export interface OpenCollections {
  service: CollectionService;
  embedded: EmbeddedVectorStore;
  /** Snapshots the embedded indexes that changed; call before the database closes. */
  close(): Promise<void>;
}

/**
 * Collections over the embedded vector index (snapshots under `<home>/vectors`) and the model runtimes.
 * `follow`: this process only reads the embedded indexes (`ensemble worker`): it catches up from PostgreSQL
 * before each query, takes no snapshots, and refuses writes (the API process writes; decision 0041).
 */
export function openCollections(options: {
  config: EnsembleConfig;
  database: Database;
  runtimes: ModelRuntimeManager;
  logger: Logger;
  follow?: boolean;
}): OpenCollections {
  const { config, database, runtimes, logger } = options;
  const embedded = new EmbeddedVectorStore({
    pool: database.pool,
    follow: options.follow === true,
    catchUpTimeoutMs: config.vectors.followTimeoutMs,
    deletionRetentionMs: config.vectors.deletionRetentionMs,
    snapshotDir: resolve(config.home, 'vectors'),
    snapshotAfterChanges: config.vectors.snapshotAfterChanges,
    snapshotIntervalMs: config.vectors.snapshotIntervalMs,
    hnsw: {
      m: config.vectors.hnswM,
      efConstruction: config.vectors.hnswEfConstruction,
      efSearch: config.vectors.hnswEfSearch,
    },
    logger,
  });
  const { apiKey, controllerHost, cloud, region } = config.pinecone;
  const pinecone =
    apiKey === undefined
      ? undefined
      : new PineconeVectorStore({
          apiKey,
          cloud,
          region,
          ...(controllerHost === undefined ? {} : { controllerHostUrl: controllerHost }),
        });
  const service = new CollectionService({
    repository: new PostgresCollectionRepository(database.pool),
    stores: { embedded, ...(pinecone === undefined ? {} : { pinecone }) },
    embedder: new RuntimeTextEmbedder(runtimes),
  });
  return { service, embedded, close: () => embedded.close() };
}
