import type { Collection, VectorIndexStats } from '@ensemble/core';

export function collectionJson(collection: Collection, stats?: VectorIndexStats) {
  return {
    name: collection.name,
    projectId: collection.projectId,
    backend: collection.backend,
    dimension: collection.dimension,
    metric: collection.metric,
    embedding: collection.embedding,
    description: collection.description,
    ...(stats === undefined ? {} : { vectorCount: stats.totalVectorCount, namespaces: stats.namespaces }),
    createdAt: collection.createdAt.toISOString(),
    updatedAt: collection.updatedAt.toISOString(),
  };
}
