import type { Collection } from './collection.ts';
import type { CollectionService } from './collection-service.ts';
import type { ChunkOptions, DocumentChunker, DocumentType } from './document-chunker.ts';

export interface IngestDocument {
  /** Stable id: re-ingesting it replaces its chunks. */
  id: string;
  source?: string;
  type: DocumentType;
  bytes: Uint8Array;
  namespace?: string;
}

export interface IngestResult {
  documentId: string;
  chunks: number;
  /** Chunks of an earlier version of the document that were removed. */
  removed: number;
}

/** Chunk ids are `<document id>#<position>`, so a document's chunks list by prefix. */
export function chunkId(documentId: string, position: number): string {
  return `${documentId}#${position}`;
}

/** Chunks embedded and upserted per step (each step is one progress report). */
const defaultUpsertBatch = 500;

/**
 * Ingests one document into a collection: text out of its bytes, chunks, embedded with the collection's
 * model in batches, upserted with `{documentId, source, position, text}` metadata. The new chunks are
 * written before the old version's extra chunks are removed, so searches never see the document missing.
 */
export async function ingestDocument(
  collections: CollectionService,
  chunker: DocumentChunker,
  collection: Collection,
  document: IngestDocument,
  options: ChunkOptions & {
    signal?: AbortSignal;
    /** Chunks per embed-and-upsert step (default 500). */
    batchSize?: number;
    /** Called once the document is split, with its number of chunks. */
    onChunked?: (total: number) => void | Promise<void>;
    onProgress?: (done: number, total: number) => void | Promise<void>;
  },
): Promise<IngestResult> {
  const upsertBatch = options.batchSize ?? defaultUpsertBatch;
  const chunks = await chunker.chunk(
    { type: document.type, bytes: document.bytes },
    { chunkSize: options.chunkSize, chunkOverlap: options.chunkOverlap },
    'body.content',
    options.signal,
  );
  await options.onChunked?.(chunks.length);
  const index = collections.index(collection);
  const namespace = document.namespace === undefined ? {} : { namespace: document.namespace };
  const previous: string[] = [];
  let token: string | undefined;
  do {
    const page = await index.listIds({
      ...namespace,
      prefix: `${document.id}#`,
      limit: 100,
      ...(token ? { paginationToken: token } : {}),
    });
    previous.push(...page.ids);
    token = page.next;
  } while (token !== undefined);

  for (let start = 0; start < chunks.length; start += upsertBatch) {
    options.signal?.throwIfAborted();
    const records = chunks.slice(start, start + upsertBatch).map((text, offset) => ({
      id: chunkId(document.id, start + offset),
      text,
      metadata: {
        documentId: document.id,
        position: start + offset,
        ...(document.source === undefined ? {} : { source: document.source }),
      },
    }));
    await collections.upsertTexts(collection, records, {
      ...namespace,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    await options.onProgress?.(Math.min(chunks.length, start + upsertBatch), chunks.length);
  }
  const current = new Set(chunks.map((_, i) => chunkId(document.id, i)));
  const stale = previous.filter((id) => !current.has(id));
  for (let i = 0; i < stale.length; i += 1000) await index.delete({ ...namespace, ids: stale.slice(i, i + 1000) });
  return { documentId: document.id, chunks: chunks.length, removed: stale.length };
}

/** Removes every chunk of a document; the number removed. */
export async function deleteDocument(
  collections: CollectionService,
  collection: Collection,
  documentId: string,
  namespace?: string,
): Promise<number> {
  const index = collections.index(collection);
  const ns = namespace === undefined ? {} : { namespace };
  let removed = 0;
  for (;;) {
    // Always the first page: each round deletes what it listed.
    const page = await index.listIds({ ...ns, prefix: `${documentId}#`, limit: 100 });
    if (page.ids.length === 0) return removed;
    await index.delete({ ...ns, ids: page.ids });
    removed += page.ids.length;
  }
}
