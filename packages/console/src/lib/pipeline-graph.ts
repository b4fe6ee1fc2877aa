/** A pipeline definition as a graph of step boxes, and run events keyed onto it (pure). */

export interface StepNode {
  /** The step's path as traces and run events name it, without map indices: `answer/french`. */
  path: string;
  id: string;
  kind: string;
  detail: string;
  /** Nested steps: a branch's cases, a parallel's branches, a map's steps; each group runs in order. */
  groups: Array<{ label: string; steps: StepNode[] }>;
}

type Step = Record<string, unknown> & { id?: string; kind?: string };

function detailOf(step: Step): string {
  const model = typeof step.model === 'string' ? step.model : '';
  switch (step.kind) {
    case 'retrieve':
      return `${String(step.collection ?? '')} · top ${String(step.topK ?? 4)}`;
    case 'branch':
      return `on ${String(step.on ?? '')}`;
    case 'parallel':
      return `aggregate: ${String((step.aggregate as { strategy?: string } | undefined)?.strategy ?? 'concat')}`;
    case 'map':
      return `over ${String(step.over ?? '')}`;
    case 'transform':
      return String(step.expression ?? '').slice(0, 60);
    case 'http':
      return `${String(step.method ?? 'GET')} ${String(step.url ?? '')}`;
    case 'pipeline':
      return String(step.pipeline ?? '');
    default:
      return model;
  }
}

export function pipelineGraph(steps: readonly Step[], parent = ''): StepNode[] {
  return steps.map((step) => {
    const id = String(step.id ?? '?');
    const path = parent ? `${parent}/${id}` : id;
    const groups: StepNode['groups'] = [];
    if (step.kind === 'branch') {
      for (const [value, caseSteps] of Object.entries((step.cases as Record<string, Step[]>) ?? {})) {
        groups.push({ label: `= ${value}`, steps: pipelineGraph(caseSteps, path) });
      }
      if (Array.isArray(step.default))
        groups.push({ label: 'default', steps: pipelineGraph(step.default as Step[], path) });
    } else if (step.kind === 'parallel') {
      for (const [index, branch] of ((step.branches as Step[][]) ?? []).entries()) {
        groups.push({ label: `branch ${index + 1}`, steps: pipelineGraph(branch, path) });
      }
    } else if (step.kind === 'map' && Array.isArray(step.steps)) {
      groups.push({ label: `each ${String(step.as ?? 'item')}`, steps: pipelineGraph(step.steps as Step[], path) });
    }
    return { path, id, kind: String(step.kind ?? '?'), detail: detailOf(step), groups };
  });
}

/** `summaries[2]/summary` → `summaries/summary`: every item of a map lights the same box. */
export function graphPath(path: string): string {
  return path.replace(/\[\d+\]/g, '');
}

export interface StepState {
  status: 'running' | 'succeeded' | 'failed' | 'retrying';
  latencyMs?: number;
  output?: unknown;
  error?: string;
  /** How many runs of the box (map items, retries) have been seen. */
  count: number;
}

export interface RunEvent {
  type: string;
  path?: string;
  status?: string;
  latencyMs?: number;
  output?: unknown;
  error?: { message?: string } | string;
}

/** Folds one run event into the boxes' states. */
export function applyRunEvent(states: Readonly<Record<string, StepState>>, event: RunEvent): Record<string, StepState> {
  if (!event.path) return { ...states };
  const key = graphPath(event.path);
  const previous = states[key];
  const count = previous?.count ?? 0;
  if (event.type === 'step.started') return { ...states, [key]: { ...previous, status: 'running', count: count + 1 } };
  if (event.type === 'step.retrying') return { ...states, [key]: { ...previous, status: 'retrying', count } };
  if (event.type === 'step.finished') {
    const failed = event.status === 'failed';
    const error = typeof event.error === 'string' ? event.error : event.error?.message;
    return {
      ...states,
      [key]: {
        status: failed ? 'failed' : 'succeeded',
        count: Math.max(count, 1),
        ...(event.latencyMs === undefined ? {} : { latencyMs: event.latencyMs }),
        ...(event.output === undefined ? {} : { output: event.output }),
        ...(error ? { error } : {}),
      },
    };
  }
  return { ...states };
}

/** A stored run's step tree as the same states (a run's page lights the graph from its trace). */
export function statesFromTrace(
  steps: ReadonlyArray<{
    path: string;
    status: string;
    latencyMs: number | null;
    output: unknown;
    error: unknown;
    steps?: unknown[];
  }>,
  into: Record<string, StepState> = {},
): Record<string, StepState> {
  for (const step of steps) {
    const event: RunEvent = {
      type: 'step.finished',
      path: step.path,
      status: step.status,
      output: step.output,
      ...(step.latencyMs === null ? {} : { latencyMs: step.latencyMs }),
      ...(step.error ? { error: (step.error as { message?: string }).message ?? String(step.error) } : {}),
    };
    Object.assign(into, applyRunEvent(into, event));
    if (Array.isArray(step.steps)) statesFromTrace(step.steps as Parameters<typeof statesFromTrace>[0], into);
  }
  return into;
}
