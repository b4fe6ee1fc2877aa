import { useQuery } from '@tanstack/react-query';
import { OfflineError } from '../lib/api-client.ts';
import { queryKeys } from './query-keys.ts';

export interface Readiness {
  status: 'ready' | 'not_ready' | string;
  checks: Record<string, { status: 'up' | 'down' | string; latencyMs?: number; error?: string }>;
}

/** `/readyz` answers 503 with the same body when a dependency is down: both are data here. */
export async function fetchReadiness(signal?: AbortSignal): Promise<Readiness> {
  let response: Response;
  try {
    response = await fetch('/readyz', { signal: signal ?? null });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new OfflineError();
  }
  return (await response.json()) as Readiness;
}

export function useReadiness() {
  return useQuery({
    queryKey: queryKeys.health.readiness(),
    queryFn: ({ signal }) => fetchReadiness(signal),
    refetchInterval: 5_000,
  });
}
