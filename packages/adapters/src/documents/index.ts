export * from './langchain-document-chunker.ts';
