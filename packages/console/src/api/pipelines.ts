import { useMutation, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, api, apiResponse } from '../lib/api-client.ts';
import type { ValidationIssue } from '../lib/definition-issues.ts';
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

export function useMovePipelineAlias(name: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ alias, version }: { alias: string; version: number }) =>
      api<{ alias: string; version: number }>(`${path(name)}/aliases/${encodeURIComponent(alias)}`, {
        method: 'PUT',
        body: { version },
      }),
    onSuccess: () => client.invalidateQueries({ queryKey: queryKeys.pipelines.all }),
  });
}

export function useDeletePipelineAlias(name: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (alias: string) =>
      api<void>(`${path(name)}/aliases/${encodeURIComponent(alias)}`, { method: 'DELETE' }),
    onSuccess: () => client.invalidateQueries({ queryKey: queryKeys.pipelines.all }),
  });
}

/**
 * Checks a draft with `POST /api/pipelines/validate`: no issues, or the API's issues (each naming its
 * field). Anything but a validation answer (offline, 5xx) is thrown.
 */
export async function validateDefinition(
  name: string,
  definition: unknown,
  signal: AbortSignal,
): Promise<ValidationIssue[]> {
  try {
    await api('/api/pipelines/validate', {
      method: 'POST',
      body: { name: name || 'draft', definition },
      signal,
    });
    return [];
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 400) throw error;
    const issues = error.details?.issues;
    if (Array.isArray(issues) && issues.every((issue) => typeof issue?.field === 'string'))
      return issues as ValidationIssue[];
    return [{ field: error.field ?? 'definition', message: error.message }];
  }
}

/** `name`, `name@3` or `name:alias`: the version it means now (a bare name: the latest). */
async function resolveRef(ref: string, signal: AbortSignal): Promise<PipelineVersion> {
  const [, name = ref, version, alias] = /^([^@:]+)(?:@(\d+)|:(.+))?$/.exec(ref) ?? [];
  if (version) return api<PipelineVersion>(`${path(name)}/versions/${version}`, { signal });
  const pipeline = await api<Pipeline>(path(name), { signal });
  const chosen = alias ? pipeline.aliases[alias] : pipeline.latestVersion;
  return api<PipelineVersion>(`${path(name)}/versions/${chosen ?? pipeline.latestVersion}`, { signal });
}

function nestedRefs(steps: readonly unknown[], into = new Set<string>()): Set<string> {
  for (const step of steps) {
    if (!step || typeof step !== 'object') continue;
    const record = step as Record<string, unknown>;
    if (record.kind === 'pipeline' && typeof record.pipeline === 'string') into.add(record.pipeline);
    for (const inner of [
      record.steps,
      record.default,
      record.branches,
      record.fallback ? [record.fallback] : undefined,
      ...Object.values((record.cases as Record<string, unknown>) ?? {}),
    ]) {
      if (Array.isArray(inner)) nestedRefs(inner.flat(), into);
    }
  }
  return into;
}

/** The steps of the pipelines a definition calls (by ref), so the graph draws them inside their step. */
export function useNestedDefinitions(steps: readonly unknown[]): Record<string, Array<Record<string, unknown>>> {
  const refs = [...nestedRefs(steps)].sort();
  const results = useQueries({
    queries: refs.map((ref) => ({
      queryKey: queryKeys.pipelines.ref(ref),
      queryFn: ({ signal }: { signal: AbortSignal }) => resolveRef(ref, signal),
      retry: false,
      staleTime: 30_000,
    })),
  });
  const nested: Record<string, Array<Record<string, unknown>>> = {};
  for (const [index, ref] of refs.entries()) {
    const steps = results[index]?.data?.definition.steps;
    if (steps) nested[ref] = steps;
  }
  return nested;
}
