import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, query } from '../lib/api-client.ts';
import { queryKeys } from './query-keys.ts';
import type { Page, UsageRecord, UsageSummary } from './types.ts';

export interface UsageFilters {
  from?: string;
  to?: string;
  bucket?: 'minute' | 'hour' | 'day';
  groupBy?: string;
  model?: string;
  requested?: string;
  route?: string;
  key?: string;
  status?: number;
}

export function useUsageSummary(filters: UsageFilters, options: { refetchInterval?: number } = {}) {
  return useQuery({
    queryKey: queryKeys.usage.summary({ ...filters }),
    queryFn: ({ signal }) => api<UsageSummary>(`/api/usage${query({ ...filters })}`, { signal }),
    placeholderData: keepPreviousData,
    ...(options.refetchInterval ? { refetchInterval: options.refetchInterval } : {}),
  });
}

export function useUsageRecords(filters: UsageFilters & { limit?: number; after?: string }) {
  return useQuery({
    queryKey: queryKeys.usage.records({ ...filters }),
    queryFn: ({ signal }) => api<Page<UsageRecord>>(`/api/usage/records${query({ ...filters })}`, { signal }),
    placeholderData: keepPreviousData,
    refetchInterval: 10_000,
  });
}
