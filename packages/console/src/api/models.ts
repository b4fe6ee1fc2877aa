import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, query } from '../lib/api-client.ts';
import { uploadWithProgress } from '../lib/upload.ts';
import { queryKeys } from './query-keys.ts';
import type { Model, ModelAlias, ModelHealth, ModelVersion, Page, Pricing } from './types.ts';

export interface ModelFilters {
  kind?: string;
  provider?: string;
  status?: string;
  tag?: string;
}

const path = (name: string) => `/api/models/${name.split('/').map(encodeURIComponent).join('/')}`;

export function useModels(filters: ModelFilters = {}, options: { refetchInterval?: number } = {}) {
  return useQuery({
    queryKey: queryKeys.models.list({ ...filters }),
    queryFn: ({ signal }) => api<Page<Model>>(`/api/models${query({ limit: 200, ...filters })}`, { signal }),
    // Models being deployed change status on their own: poll until none is.
    refetchInterval: (current) =>
      options.refetchInterval ??
      (current.state.data?.data.some((model) => model.status === 'deploying') ? 2_000 : false),
  });
}

export function useModel(name: string) {
  return useQuery({
    queryKey: queryKeys.models.detail(name),
    queryFn: ({ signal }) => api<Model>(path(name), { signal }),
    refetchInterval: (current) => (current.state.data?.status === 'deploying' ? 2_000 : false),
  });
}

export function useModelVersions(name: string) {
  return useQuery({
    queryKey: queryKeys.models.versions(name),
    queryFn: ({ signal }) => api<Page<ModelVersion>>(`${path(name)}/versions`, { signal }),
  });
}

export function useModelAliases(name: string) {
  return useQuery({
    queryKey: queryKeys.models.aliases(name),
    queryFn: ({ signal }) => api<{ data: ModelAlias[] }>(`${path(name)}/aliases`, { signal }),
  });
}

export function useModelHealth(name: string) {
  return useQuery({
    queryKey: queryKeys.models.health(name),
    queryFn: ({ signal }) => api<ModelHealth>(`${path(name)}/health`, { signal }),
    refetchInterval: 10_000,
  });
}

export interface ModelStatusChange {
  from: string;
  to: string;
  reason: string | null;
  actor: string;
  at: string;
}

/** The model's status changes, newest first; fetched again whenever its status changes. */
export function useModelStatusHistory(name: string, status: string) {
  return useQuery({
    queryKey: [...queryKeys.models.statusHistory(name), status],
    queryFn: ({ signal }) => api<{ data: ModelStatusChange[] }>(`${path(name)}/history?limit=20`, { signal }),
  });
}

export interface NewModel {
  name: string;
  kind: string;
  provider: string;
  providerModelId: string;
  baseUrl?: string;
  credential?: string;
  description?: string;
  tags?: string[];
  pricing?: Pricing;
  parameters?: Record<string, unknown>;
  options?: Record<string, unknown>;
  artifact?: { sha256: string; format: string };
}

/**
 * Streams a model file into the artifact store (`POST /api/artifacts`, raw bytes: never buffered
 * on the server), reporting the bytes sent; resolves with the file's sha256 as the server computed it.
 */
export async function uploadArtifact(
  file: File,
  { signal, onProgress }: { signal?: AbortSignal; onProgress: (sent: number, total: number) => void },
): Promise<{ sha256: string; sizeBytes: number }> {
  const answer = await uploadWithProgress<{ sha256: string; sizeBytes: number }>('/api/artifacts', file, {
    headers: { 'content-type': 'application/octet-stream' },
    ...(signal ? { signal } : {}),
    onProgress: (sent, total) => onProgress(sent, total || file.size),
  });
  return answer.body;
}

export function useRegisterModel() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (model: NewModel) => api<Model>('/api/models', { method: 'POST', body: model }),
    onSuccess: () => client.invalidateQueries({ queryKey: queryKeys.models.all }),
  });
}

export function useMoveAlias(name: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ alias, version }: { alias: string; version: number }) =>
      api<ModelAlias>(`${path(name)}/aliases/${encodeURIComponent(alias)}`, { method: 'PUT', body: { version } }),
    onSuccess: () => client.invalidateQueries({ queryKey: queryKeys.models.detail(name) }),
  });
}

export function useDeployment(name: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (action: 'deploy' | 'undeploy') =>
      api<unknown>(`${path(name)}/${action}`, { method: 'POST', body: {} }),
    onSettled: () => client.invalidateQueries({ queryKey: queryKeys.models.all }),
  });
}

export interface InvokeResult {
  message?: { role: 'assistant'; content: string };
  usage?: { inputTokens: number; outputTokens: number; totalTokens: number } | null;
  embeddings?: number[][];
  dimensions?: number;
  results?: unknown;
  model: string;
  version: number;
  latencyMs: number;
  [field: string]: unknown;
}

/** Tests a model in place through `/api/models/{name}/invoke` (chat: messages; others: input). */
export function useInvokeModel(name: string) {
  return useMutation({
    mutationFn: (body: Record<string, unknown>) => api<InvokeResult>(`${path(name)}/invoke`, { method: 'POST', body }),
  });
}

export function modelPath(name: string): string {
  return `/models/${name.split('/').map(encodeURIComponent).join('/')}`;
}
