import { QueryClient } from '@tanstack/react-query';
import { ApiError } from './api-client.ts';

/** Queries retry network failures twice, never an API's answer (a 4xx will not change by asking again). */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 5_000,
        retry: (failures, error) => !(error instanceof ApiError) && failures < 2,
        refetchOnWindowFocus: true,
      },
      mutations: { retry: false },
    },
  });
}
