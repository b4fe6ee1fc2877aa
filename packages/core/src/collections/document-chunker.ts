/** The document types ingestion reads. */
export const documentTypes = ['text/plain', 'text/markdown', 'text/html', 'application/pdf'] as const;
export type DocumentType = (typeof documentTypes)[number];

export interface ChunkOptions {
  /** Characters per chunk (LangChain's splitters measure in characters). */
  chunkSize: number;
  chunkOverlap: number;
}

/**
 * Turns a document's bytes into text and splits it into chunks (text, Markdown and HTML by structure,
 * PDF page by page). Bad input — an unsupported type, a PDF that does not parse — is a
 * `validation_failed` naming `field`.
 */
export interface DocumentChunker {
  /** `signal` stops the work (a cancelled ingestion job); implementations that cannot stop may ignore it. */
  chunk(
    document: { type: DocumentType; bytes: Uint8Array },
    options: ChunkOptions,
    field: string,
    signal?: AbortSignal,
  ): Promise<string[]>;
}
