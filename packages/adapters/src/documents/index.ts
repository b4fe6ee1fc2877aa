export * from './langchain-document-chunker.ts';
export * from './threaded-document-chunker.ts';
