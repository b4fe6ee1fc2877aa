import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, query } from '../lib/api-client.ts';
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
      const form = new FormData();
      form.append('file', file, file.name);
      const artifact = await api<{ sha256: string }>('/api/artifacts', { method: 'POST', body: form });
      return api<Job>('/api/jobs', { method: 'POST', body: { type, model, inputFile: artifact.sha256 } });
    },
    onSuccess: () => client.invalidateQueries({ queryKey: queryKeys.jobs.all }),
  });
}
