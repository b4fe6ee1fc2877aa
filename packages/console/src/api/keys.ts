import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../lib/api-client.ts';
import { queryKeys } from './query-keys.ts';
import type { ApiKey, Page } from './types.ts';

export function useKeys() {
  return useQuery({
    queryKey: queryKeys.keys.list(),
    queryFn: ({ signal }) => api<Page<ApiKey>>('/api/keys?limit=200', { signal }),
  });
}

export interface NewKey {
  name: string;
  admin?: boolean;
  role?: 'viewer' | 'developer' | 'admin' | 'owner';
  allowedModels?: string[];
  expiresAt?: string;
}

export function useCreateKey() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (key: NewKey) => api<ApiKey & { secret: string }>('/api/keys', { method: 'POST', body: key }),
    onSuccess: () => client.invalidateQueries({ queryKey: queryKeys.keys.all }),
  });
}

export function useRevokeKey() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api<unknown>(`/api/keys/${encodeURIComponent(id)}`, { method: 'DELETE' }),
    onSuccess: () => client.invalidateQueries({ queryKey: queryKeys.keys.all }),
  });
}
