export * from './collection.ts';
export * from './collection-langchain-retriever.ts';
export * from './collection-repository.ts';
export * from './collection-retriever.ts';
export * from './collection-service.ts';
export * from './maximal-marginal-relevance.ts';
export * from './runtime-text-embedder.ts';
export * from './text-embedder.ts';
