export * from './embedded-vector-store.ts';
export * from './hnsw-settings.ts';
