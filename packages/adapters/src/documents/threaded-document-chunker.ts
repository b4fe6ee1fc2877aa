import { Worker } from 'node:worker_threads';
import {
  type ChunkOptions,
  type DocumentChunker,
  type DocumentType,
  EnsembleError,
  type ErrorCode,
} from '@ensemble/core';

/** What the chunking thread is given. */
export interface ChunkRequest extends ChunkOptions {
  type: DocumentType;
  bytes: Uint8Array;
  field: string;
}

export type ChunkResponse =
  | { ok: true; chunks: string[] }
  | { ok: false; code: ErrorCode; message: string; field: string | null };

export interface ThreadedDocumentChunkerOptions {
  /** Longest a document may take to parse and split; the thread is stopped then. */
  timeoutMs: number;
}

const threadScript = new URL('./chunk-document-thread.ts', import.meta.url);

/**
 * `LangChainDocumentChunker` in a worker thread per document, so parsing a 1,000-page PDF never
 * blocks the event loop that serves requests. Aborting (a cancelled job) or the timeout terminates
 * the thread at once — PDF.js cannot be interrupted any other way.
 */
export class ThreadedDocumentChunker implements DocumentChunker {
  readonly #timeoutMs: number;

  constructor(options: ThreadedDocumentChunkerOptions) {
    this.#timeoutMs = options.timeoutMs;
  }

  chunk(
    document: { type: DocumentType; bytes: Uint8Array },
    options: ChunkOptions,
    field: string,
    signal?: AbortSignal,
  ): Promise<string[]> {
    signal?.throwIfAborted();
    const request: ChunkRequest = {
      type: document.type,
      bytes: document.bytes,
      chunkSize: options.chunkSize,
      chunkOverlap: options.chunkOverlap,
      field,
    };
    return new Promise<string[]>((resolve, reject) => {
      const worker = new Worker(threadScript, { workerData: request });
      let settled = false;
      const finish = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        void worker.terminate();
        outcome();
      };
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(
              new EnsembleError('timeout', `${field}: parsing the document took longer than ${this.#timeoutMs} ms`, {
                field,
              }),
            ),
          ),
        this.#timeoutMs,
      );
      const onAbort = () => finish(() => reject(signal?.reason ?? new Error('aborted')));
      signal?.addEventListener('abort', onAbort, { once: true });
      worker.once('message', (response: ChunkResponse) =>
        finish(() => {
          if (response.ok) resolve(response.chunks);
          else
            reject(
              new EnsembleError(
                response.code,
                response.message,
                response.field === null ? {} : { field: response.field },
              ),
            );
        }),
      );
      worker.once('error', (error) => finish(() => reject(error)));
      worker.once('exit', (code) =>
        finish(() => reject(new Error(`the document chunking thread exited (code ${code}) without an answer`))),
      );
    });
  }
}
