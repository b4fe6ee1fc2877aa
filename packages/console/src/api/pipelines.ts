import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, apiResponse } from '../lib/api-client.ts';
import type { RunEvent } from '../lib/pipeline-graph.ts';
import { readSse } from '../lib/sse.ts';
import { queryKeys } from './query-keys.ts';
import type { Page } from './types.ts';

export interface Pipeline {
  name: string;
  description: string;
  latestVersion: number;
  aliases: Record<string, number>;
  createdAt: string;
  updatedAt: string;
  versions?: Array<{ version: number; description: string; createdBy: string; createdAt: string }>;
}

export interface PipelineVersion {
  name: string;
  version: number;
  definition: { steps: Array<Record<string, unknown>>; input?: unknown; output?: unknown };
  description: string;
}

export interface RunStep {
  path: string;
  stepId: string;
  kind: string;
  status: string;
  attempt: number;
  input: unknown;
  output: unknown;
  model: string | null;
  inputTokens: number;
  outputTokens: number;
  costUsd: number | null;
  latencyMs: number | null;
  error: unknown;
  steps: RunStep[];
}

export interface Run {
  id: string;
  pipeline: string;
  version: number;
  status: string;
  input: unknown;
  output: unknown;
  error: unknown;
  inputTokens: number;
  outputTokens: number;
  costUsd: number | null;
  latencyMs: number | null;
  createdAt: string;
  steps?: RunStep[];
}

const path = (name: string) => `/api/pipelines/${encodeURIComponent(name)}`;

export function usePipelines() {
  return useQuery({
    queryKey: queryKeys.pipelines.list(),
    queryFn: ({ signal }) => api<Page<Pipeline>>('/api/pipelines?limit=200', { signal }),
  });
}

export function usePipeline(name: string) {
  return useQuery({
    queryKey: queryKeys.pipelines.detail(name),
    queryFn: ({ signal }) => api<Pipeline>(path(name), { signal }),
  });
}

export function usePipelineVersion(name: string, version: number | undefined) {
  return useQuery({
    queryKey: queryKeys.pipelines.version(name, version ?? 0),
    queryFn: ({ signal }) => api<PipelineVersion>(`${path(name)}/versions/${version}`, { signal }),
    enabled: version !== undefined,
  });
}

export function useRuns(pipeline: string) {
  return useQuery({
    queryKey: queryKeys.pipelines.runs(pipeline),
    queryFn: ({ signal }) => api<Page<Run>>(`/api/runs?pipeline=${encodeURIComponent(pipeline)}&limit=20`, { signal }),
  });
}

export function useRun(id: string) {
  return useQuery({
    queryKey: queryKeys.pipelines.run(id),
    queryFn: ({ signal }) => api<Run>(`/api/runs/${encodeURIComponent(id)}`, { signal }),
  });
}

export function useSavePipeline() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ name, definition, create }: { name: string; definition: unknown; create: boolean }) =>
      create
        ? api<PipelineVersion>('/api/pipelines', { method: 'POST', body: { name, definition } })
        : api<PipelineVersion>(`${path(name)}/versions`, { method: 'POST', body: { definition } }),
    onSuccess: () => client.invalidateQueries({ queryKey: queryKeys.pipelines.all }),
  });
}

/** Runs a pipeline with `stream: true`, handing each event to `onEvent`; resolves with the run's end. */
export async function streamRun(
  name: string,
  input: unknown,
  { signal, onEvent }: { signal: AbortSignal; onEvent: (event: RunEvent & Record<string, unknown>) => void },
): Promise<void> {
  const response = await apiResponse(`${path(name)}/run`, { method: 'POST', body: { input, stream: true }, signal });
  for await (const event of readSse(response)) {
    onEvent({ ...(JSON.parse(event.data) as Record<string, unknown>), type: event.event });
  }
}
