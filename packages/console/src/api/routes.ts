import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../lib/api-client.ts';
import { queryKeys } from './query-keys.ts';
import type { Page, Route } from './types.ts';

const path = (name: string) => `/api/routes/${name.split('/').map(encodeURIComponent).join('/')}`;

export function useRoutes() {
  return useQuery({
    queryKey: queryKeys.routes.list(),
    queryFn: ({ signal }) => api<Page<Route>>('/api/routes?limit=200', { signal }),
  });
}

export function useRoute(name: string) {
  return useQuery({
    queryKey: queryKeys.routes.detail(name),
    queryFn: ({ signal }) => api<Route & { versions?: unknown[] }>(path(name), { signal }),
  });
}

export function useSaveRoute() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({
      name,
      policy,
      description,
      create,
    }: {
      name: string;
      policy: unknown;
      description: string;
      create: boolean;
    }) =>
      create
        ? api<Route>('/api/routes', { method: 'POST', body: { name, policy, description } })
        : api<Route>(`${path(name)}/versions`, { method: 'POST', body: { policy, description } }),
    onSuccess: () => client.invalidateQueries({ queryKey: queryKeys.routes.all }),
  });
}
