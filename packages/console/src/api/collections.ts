import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../lib/api-client.ts';
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
