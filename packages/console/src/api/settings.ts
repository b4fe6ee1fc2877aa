import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, query } from '../lib/api-client.ts';
import { queryKeys } from './query-keys.ts';
import type { Page } from './types.ts';

export interface Project {
  id: string;
  name: string;
  createdAt: string;
}

export interface Credential {
  name: string;
  provider: string;
  hint: string;
  createdAt: string;
  updatedAt: string;
}

export interface AuditEntry {
  id: string;
  at: string;
  actorKeyId: string | null;
  actorRole: string | null;
  sourceIp: string | null;
  action: string;
  resourceType: string;
  resourceId: string | null;
  status: number;
  requestId: string;
  before: unknown;
  after: unknown;
}

export function useProjects() {
  return useQuery({
    queryKey: queryKeys.projects.list(),
    queryFn: ({ signal }) => api<Page<Project>>('/api/projects?limit=200', { signal }),
  });
}

export function useCreateProject() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { id: string; name: string }) => api<Project>('/api/projects', { method: 'POST', body }),
    onSuccess: () => client.invalidateQueries({ queryKey: queryKeys.projects.all }),
  });
}

export function useCredentials() {
  return useQuery({
    queryKey: queryKeys.credentials.list(),
    queryFn: ({ signal }) => api<Page<Credential>>('/api/credentials?limit=200', { signal }),
  });
}

export function useCredentialChange() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (change: { add: { name: string; provider: string; secret: string } } | { remove: string }) =>
      'add' in change
        ? api<Credential>('/api/credentials', { method: 'POST', body: change.add })
        : api<unknown>(`/api/credentials/${encodeURIComponent(change.remove)}`, { method: 'DELETE' }),
    onSuccess: () => client.invalidateQueries({ queryKey: queryKeys.credentials.all }),
  });
}

export function useLimits() {
  return useQuery({
    queryKey: queryKeys.limits.project(),
    queryFn: ({ signal }) => api<Record<string, unknown>>('/api/limits', { signal }),
  });
}

export function useSetLimits() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: Record<string, unknown>) => api<unknown>('/api/limits', { method: 'PUT', body }),
    onSuccess: () => client.invalidateQueries({ queryKey: queryKeys.limits.all }),
  });
}

export function useAudit(filters: { action?: string }) {
  return useQuery({
    queryKey: queryKeys.audit.list({ ...filters }),
    queryFn: ({ signal }) => api<Page<AuditEntry>>(`/api/audit${query({ limit: 100, ...filters })}`, { signal }),
  });
}
