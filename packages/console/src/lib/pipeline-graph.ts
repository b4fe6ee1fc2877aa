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

export const fallbackLabel = 'on failure';

/** A parallel branch is one step (a list of steps is accepted too, as older drafts wrote them). */
function stepsOf(value: unknown): Step[] {
  if (Array.isArray(value)) return value as Step[];
  return value && typeof value === 'object' ? [value as Step] : [];
}

/**
 * The definition's steps as boxes. `nested` holds the steps of the pipelines that `pipeline` steps
 * call (by their ref), so a nested pipeline is drawn inside its step as the run traces it
 * (`outer/inner`); a step's `fallback` is drawn as an "on failure" group (`step~fallback`).
 */
export function pipelineGraph(
  steps: readonly Step[],
  parent = '',
  nested: Readonly<Record<string, readonly Step[]>> = {},
  separator = '/',
): StepNode[] {
  return (Array.isArray(steps) ? steps : []).map((raw) => {
    const step = (raw && typeof raw === 'object' ? raw : {}) as Step;
    const id = String(step.id ?? '?');
    const path = parent ? `${parent}${separator}${id}` : id;
    const groups: StepNode['groups'] = [];
    if (step.kind === 'branch') {
      const cases = step.cases && typeof step.cases === 'object' ? (step.cases as Record<string, unknown>) : {};
      for (const [value, caseSteps] of Object.entries(cases)) {
        groups.push({ label: `= ${value}`, steps: pipelineGraph(stepsOf(caseSteps), path, nested) });
      }
      if (Array.isArray(step.default))
        groups.push({ label: 'default', steps: pipelineGraph(step.default as Step[], path, nested) });
    } else if (step.kind === 'parallel') {
      const branches = Array.isArray(step.branches) ? (step.branches as unknown[]) : [];
      for (const [index, branch] of branches.entries()) {
        groups.push({ label: `branch ${index + 1}`, steps: pipelineGraph(stepsOf(branch), path, nested) });
      }
    } else if (step.kind === 'map' && Array.isArray(step.steps)) {
      groups.push({
        label: `each ${String(step.as ?? 'item')}`,
        steps: pipelineGraph(step.steps as Step[], path, nested),
      });
    } else if (step.kind === 'pipeline' && typeof step.pipeline === 'string' && nested[step.pipeline]) {
      groups.push({ label: `runs ${step.pipeline}`, steps: pipelineGraph(nested[step.pipeline] ?? [], path, {}) });
    }
    if (step.fallback && typeof step.fallback === 'object') {
      groups.push({ label: fallbackLabel, steps: pipelineGraph([step.fallback as Step], path, nested, '~') });
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
  /** From the stored trace (a streamed run's boxes get them when the run ends). */
  tokens?: number;
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
  /** `token` events: a piece of a model step's answer as it streams. */
  delta?: string;
}

/** Folds one run event into the boxes' states. */
export function applyRunEvent(states: Readonly<Record<string, StepState>>, event: RunEvent): Record<string, StepState> {
  if (!event.path) return { ...states };
  const key = graphPath(event.path);
  const previous = states[key];
  const count = previous?.count ?? 0;
  if (event.type === 'step.started') return { ...states, [key]: { ...previous, status: 'running', count: count + 1 } };
  if (event.type === 'step.retrying') return { ...states, [key]: { ...previous, status: 'retrying', count } };
  if (event.type === 'token') {
    // A model step streaming: its box shows the answer so far and counts the pieces (≈ tokens).
    const sofar = typeof previous?.output === 'string' ? previous.output : '';
    return {
      ...states,
      [key]: {
        ...previous,
        status: previous?.status ?? 'running',
        count: Math.max(count, 1),
        tokens: (previous?.tokens ?? 0) + 1,
        output: sofar + (event.delta ?? ''),
      },
    };
  }
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
        // Streamed pieces until the stored trace gives the step's exact token counts.
        ...(previous?.tokens ? { tokens: previous.tokens } : {}),
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
    inputTokens?: number;
    outputTokens?: number;
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
    const before = into[graphPath(step.path)]?.tokens ?? 0;
    Object.assign(into, applyRunEvent(into, event));
    const tokens = before + (step.inputTokens ?? 0) + (step.outputTokens ?? 0);
    const state = into[graphPath(step.path)];
    if (tokens > 0 && state) state.tokens = (state.tokens ?? 0) + tokens;
    if (Array.isArray(step.steps)) statesFromTrace(step.steps as Parameters<typeof statesFromTrace>[0], into);
  }
  return into;
}
