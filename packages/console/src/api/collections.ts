import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../lib/api-client.ts';
import { type DocumentType, ingestAnswerOf, jobEnded } from '../lib/document-files.ts';
import { uploadWithProgress } from '../lib/upload.ts';
import { fetchJobResults, followJobEvents } from './jobs.ts';
import { queryKeys } from './query-keys.ts';
import type { Page } from './types.ts';

export interface Collection {
  name: string;
  projectId: string;
  backend: 'embedded' | 'pinecone';
  dimension: number;
  metric: 'cosine' | 'dotproduct' | 'euclidean';
  embedding: { model: string; version: number } | null;
  description: string;
  vectorCount?: number;
  namespaces?: Record<string, { vectorCount: number }>;
  createdAt: string;
  updatedAt: string;
}

export interface SearchMatch {
  id: string;
  score: number;
  metadata?: Record<string, unknown>;
}

const path = (name: string) => `/api/collections/${encodeURIComponent(name)}`;

export function useCollections() {
  return useQuery({
    queryKey: queryKeys.collections.list(),
    queryFn: ({ signal }) => api<Page<Collection>>('/api/collections?limit=200', { signal }),
  });
}

export function useCollection(name: string) {
  return useQuery({
    queryKey: queryKeys.collections.detail(name),
    queryFn: ({ signal }) => api<Collection>(path(name), { signal }),
  });
}

export function useCreateCollection() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { name: string; embeddingModel?: string; metric?: string; description?: string }) =>
      api<Collection>('/api/collections', { method: 'POST', body }),
    onSuccess: () => client.invalidateQueries({ queryKey: queryKeys.collections.all }),
  });
}

export type TextRecord = { id: string; text: string; metadata: Record<string, string | number> };

/** Upserts texts in batches, reporting how many are stored after each (the collection embeds them). */
export async function upsertTexts(
  name: string,
  records: readonly TextRecord[],
  {
    batchSize = 32,
    signal,
    onProgress,
  }: { batchSize?: number; signal?: AbortSignal; onProgress: (done: number) => void },
): Promise<void> {
  for (let start = 0; start < records.length; start += batchSize) {
    const batch = records.slice(start, start + batchSize);
    await api(`${path(name)}/vectors`, { method: 'POST', body: { records: batch }, ...(signal ? { signal } : {}) });
    onProgress(start + batch.length);
  }
}

export function useSearchCollection(name: string) {
  return useMutation({
    mutationFn: (body: { text: string; topK: number; filter?: unknown; namespace?: string }) =>
      api<{ matches: SearchMatch[]; namespace: string }>(`${path(name)}/search`, { method: 'POST', body }),
  });
}

export interface IngestProgress {
  /** Bytes sent of this document, then the server's job progress when it answers with a job. */
  phase: 'uploading' | 'processing';
  done: number;
  total: number;
}

function base64Of(bytes: ArrayBuffer): string {
  let binary = '';
  const view = new Uint8Array(bytes);
  for (let start = 0; start < view.length; start += 0x8000) {
    binary += String.fromCharCode(...view.subarray(start, start + 0x8000));
  }
  return btoa(binary);
}

/**
 * Ingests one document through `/api/collections/{name}/documents` (the server extracts, splits and
 * embeds it). The server answers at once with the chunks stored, or with an ingestion job: then the
 * job's events are followed to its end (its chunk progress on the bar). Resolves with the chunks
 * stored (and the job, when there was one); a document the job could not ingest throws its error.
 */
export async function ingestDocument(
  name: string,
  file: File,
  {
    id,
    type,
    signal,
    onProgress,
  }: {
    id: string;
    type: DocumentType;
    signal?: AbortSignal;
    onProgress: (progress: IngestProgress) => void;
  },
): Promise<{ chunks: number | null; jobId?: string }> {
  const content =
    type === 'application/pdf' ? { base64: base64Of(await file.arrayBuffer()) } : { text: await file.text() };
  const body = JSON.stringify({ id, type, source: file.name, ...content });
  const answer = await uploadWithProgress<unknown>(`${path(name)}/documents`, body, {
    headers: { 'content-type': 'application/json' },
    ...(signal ? { signal } : {}),
    onProgress: (sent, total) => onProgress({ phase: 'uploading', done: sent, total: total || body.length }),
  });
  const result = ingestAnswerOf(answer.status, answer.body);
  if (result.kind === 'done') return { chunks: result.chunks };
  const { jobId } = result;
  let chunks: number | null = null;
  let ended: string | null = null;
  const controller = new AbortController();
  signal?.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
  await followJobEvents(jobId, {
    signal: controller.signal,
    onEvent: (event) => {
      if (event.progress) {
        chunks = event.progress.done;
        onProgress({ phase: 'processing', done: event.progress.done, total: event.progress.total });
      } else {
        onProgress({
          phase: 'processing',
          done: event.counts.succeeded + event.counts.failed,
          total: event.counts.total,
        });
      }
      if (jobEnded(event)) {
        ended = event.status;
        controller.abort();
      }
    },
  }).catch((error: unknown) => {
    if (!controller.signal.aborted) throw error;
  });
  if (signal?.aborted) throw signal.reason;
  if (ended === 'failed' || ended === 'cancelled') throw new Error(`the ingestion job ${jobId} ${ended}`);
  if (ended === 'completed_with_errors') {
    // The document's own error (a PDF that does not parse, no text in it) is in the job's failed results.
    const failed = await fetchJobResults(jobId, 'failed').catch(() => undefined);
    const error = failed?.lines[0]?.error;
    const message = typeof error === 'string' ? error : (error?.message ?? 'see the job');
    throw new Error(`${file.name}: ${message} (job ${jobId})`);
  }
  return { chunks, jobId };
}
