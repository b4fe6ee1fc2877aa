// The official SDK (latest) is re-exported so tests and tools use the same version as the adapter.
export { Pinecone } from '@pinecone-database/pinecone';
export * from './map-pinecone-error.ts';
export * from './pinecone-vector-store.ts';
