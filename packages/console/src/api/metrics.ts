import { useQuery } from '@tanstack/react-query';
import { useRef } from 'react';
import { OfflineError } from '../lib/api-client.ts';
import { type MetricsSample, parsePrometheus, sampleMetrics } from '../lib/prometheus.ts';
import { queryKeys } from './query-keys.ts';

const keep = 60;

/**
 * Polls `/metrics` (Prometheus text) every few seconds and keeps the last minutes of samples in the
 * page, so the overview draws live rates without any server-side history.
 */
export function useLiveMetrics(intervalMs = 3_000) {
  const history = useRef<MetricsSample[]>([]);
  const result = useQuery({
    queryKey: queryKeys.health.metrics(),
    queryFn: async ({ signal }) => {
      let response: Response;
      try {
        response = await fetch('/metrics', { signal });
      } catch (error) {
        if (error instanceof DOMException && error.name === 'AbortError') throw error;
        throw new OfflineError();
      }
      if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
      const sample = sampleMetrics(parsePrometheus(await response.text()), Date.now());
      history.current = [...history.current, sample].slice(-keep);
      return history.current;
    },
    refetchInterval: intervalMs,
    staleTime: 0,
  });
  return result;
}
