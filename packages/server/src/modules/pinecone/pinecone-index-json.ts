import type { Collection } from '@ensemble/core';

/** Where an index's data plane is: its own path on this server, with an explicit `http://`. */
export function indexHost(origin: string, name: string): string {
  return `${origin}/pinecone/data/${name}`;
}

/**
 * A collection described as a Pinecone index, in the shape of the API version the client asked for:
 * 2026-07 and later (schema/deployment/read_capacity) or the older one (dimension/metric/spec, as 2025-01).
 */
export function pineconeIndexJson(collection: Collection, host: string, apiVersion: string | undefined) {
  const common = {
    name: collection.name,
    host,
    status: { ready: true, state: 'Ready' },
    deletion_protection: 'disabled',
    tags: { backend: collection.backend },
  };
  if (apiVersion !== undefined && apiVersion >= '2026-07') {
    return {
      ...common,
      deployment: { deployment_type: 'managed', cloud: 'aws', region: 'us-east-1' },
      read_capacity: { mode: 'OnDemand', status: { state: 'Ready' } },
      schema: {
        fields: { _values: { type: 'dense_vector', dimension: collection.dimension, metric: collection.metric } },
      },
    };
  }
  return {
    ...common,
    dimension: collection.dimension,
    metric: collection.metric,
    vector_type: 'dense',
    spec: { serverless: { cloud: 'aws', region: 'us-east-1' } },
  };
}
