import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, apiResponse, query } from '../lib/api-client.ts';
import { readSse } from '../lib/sse.ts';
import { queryKeys } from './query-keys.ts';
import type { Job, Page } from './types.ts';

export interface JobFilters {
  status?: string;
  type?: string;
  model?: string;
}

const active = (job: Job) => job.status === 'queued' || job.status === 'running';

export function useJobs(filters: JobFilters = {}) {
  return useQuery({
    queryKey: queryKeys.jobs.list({ ...filters }),
    queryFn: ({ signal }) => api<Page<Job>>(`/api/jobs${query({ limit: 100, ...filters })}`, { signal }),
    placeholderData: keepPreviousData,
    refetchInterval: (current) => (current.state.data?.data.some(active) ? 2_000 : 15_000),
  });
}

export function useJob(id: string) {
  return useQuery({
    queryKey: queryKeys.jobs.detail(id),
    queryFn: ({ signal }) => api<Job>(`/api/jobs/${encodeURIComponent(id)}`, { signal }),
  });
}

export function useJobAction(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (action: 'cancel' | 'retry-failed') =>
      api<Job>(`/api/jobs/${encodeURIComponent(id)}/${action}`, { method: 'POST', body: {} }),
    onSuccess: (job) => {
      client.setQueryData(queryKeys.jobs.detail(id), job);
      return client.invalidateQueries({ queryKey: queryKeys.jobs.all });
    },
  });
}

export function useSubmitJob() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async ({ file, model, type }: { file: File; model: string; type: 'batch-inference' | 'embed' }) => {
      // The file's bytes as they are (the artifact store keeps them by digest); the API checks every line.
      const artifact = await api<{ sha256: string }>('/api/artifacts', {
        method: 'POST',
        body: file,
        headers: { 'content-type': 'application/octet-stream' },
      });
      return api<Job>('/api/jobs', { method: 'POST', body: { type, model, inputFile: artifact.sha256 } });
    },
    onSuccess: () => client.invalidateQueries({ queryKey: queryKeys.jobs.all }),
  });
}

export interface JobEvent {
  seq: number;
  type: string;
  at: string;
  status: string;
  counts: { total: number; succeeded: number; failed: number };
  usage?: { inputTokens: number; outputTokens: number; costUsd: number | null };
  /** Ingestion jobs: chunks embedded of those known so far. */
  progress?: { unit: 'chunks'; done: number; total: number };
}

/** Follows `/api/jobs/{id}/events` (SSE over fetch: EventSource sends no Authorization header). */
export async function followJobEvents(
  id: string,
  { signal, after, onEvent }: { signal: AbortSignal; after?: number; onEvent: (event: JobEvent) => void },
): Promise<void> {
  const response = await apiResponse(`/api/jobs/${encodeURIComponent(id)}/events${after ? `?after=${after}` : ''}`, {
    signal,
  });
  for await (const event of readSse(response)) {
    const data = JSON.parse(event.data) as Omit<JobEvent, 'type'>;
    onEvent({ ...data, type: event.event });
  }
}

export interface JobResultLine {
  index: number;
  customId: string | null;
  status: 'succeeded' | 'failed';
  error: { code?: string; message?: string } | string | null;
  attempts: number;
  durationMs: number | null;
}

export async function fetchJobResults(
  id: string,
  status?: 'failed',
): Promise<{ text: string; lines: JobResultLine[] }> {
  const response = await apiResponse(`/api/jobs/${encodeURIComponent(id)}/results${status ? `?status=${status}` : ''}`);
  const text = await response.text();
  const lines = text
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as JobResultLine);
  return { text, lines };
}
