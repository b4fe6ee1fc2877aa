// The body of the chunking worker thread: parses and splits one document off the main event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { EnsembleError } from '@ensemble/core';
import { LangChainDocumentChunker } from './langchain-document-chunker.ts';
import type { ChunkRequest, ChunkResponse } from './threaded-document-chunker.ts';

const request = workerData as ChunkRequest;
let response: ChunkResponse;
try {
  const chunks = await new LangChainDocumentChunker().chunk(
    { type: request.type, bytes: request.bytes },
    { chunkSize: request.chunkSize, chunkOverlap: request.chunkOverlap },
    request.field,
  );
  response = { ok: true, chunks };
} catch (error) {
  response = EnsembleError.isInstance(error)
    ? { ok: false, code: error.code, message: error.message, field: error.field ?? null }
    : { ok: false, code: 'internal_error', message: (error as Error).message, field: null };
}
parentPort?.postMessage(response);
