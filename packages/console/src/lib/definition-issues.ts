/**
 * The API's validation issues (`body.definition.steps[1].cases.fr[0].model: ...`) placed on the step
 * they are about (`answer/french`, the path the graph and run traces use), so the editor can show
 * them beside the step's box (pure).
 */

export interface ValidationIssue {
  field: string;
  message: string;
}

export interface StepIssue {
  /** The step's graph path, or null for the definition itself (`input`, `output`, the step list). */
  path: string | null;
  /** What is left of the field inside the step (`model`), or the whole field when not in a step. */
  field: string;
  message: string;
}

type Segment = string | number;

function segmentsOf(field: string): Segment[] {
  return (field.match(/\[\d+\]|[^.[\]]+/g) ?? []).map((segment) =>
    segment.startsWith('[') ? Number(segment.slice(1, -1)) : segment,
  );
}

const asRecord = (value: unknown): Record<string, unknown> | undefined =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

export function stepOfField(definition: unknown, field: string): { path: string | null; rest: string } {
  const segments = segmentsOf(field);
  // Skip the request's prefix (`body.definition`) up to the top-level step list.
  const start = segments.indexOf('steps');
  if (start < 0 || typeof segments[start + 1] !== 'number') return { path: null, rest: field };
  let steps: unknown = asRecord(definition)?.steps;
  let index = start;
  let path: string | null = null;
  let separator = '/';
  let step: Record<string, unknown> | undefined;
  const enter = (list: unknown, at: Segment | undefined): boolean => {
    if (!Array.isArray(list) || typeof at !== 'number') return false;
    const found = asRecord(list[at]);
    if (!found) return false;
    step = found;
    path = path === null ? String(found.id ?? `#${at}`) : `${path}${separator}${String(found.id ?? `#${at}`)}`;
    separator = '/';
    return true;
  };
  if (!enter(steps, segments[start + 1])) return { path: null, rest: field };
  index = start + 2;
  while (index < segments.length && step) {
    const current: Record<string, unknown> = step;
    const name = segments[index];
    if (name === 'cases' && typeof segments[index + 1] === 'string') {
      steps = asRecord(current.cases)?.[segments[index + 1] as string];
      if (!enter(steps, segments[index + 2])) break;
      index += 3;
    } else if ((name === 'default' || name === 'steps') && typeof segments[index + 1] === 'number') {
      if (!enter(current[name], segments[index + 1])) break;
      index += 2;
    } else if (name === 'branches' && typeof segments[index + 1] === 'number') {
      const branch = (current.branches as unknown[] | undefined)?.[segments[index + 1] as number];
      if (Array.isArray(branch)) {
        if (!enter(branch, segments[index + 2])) break;
        index += 3;
      } else {
        if (!enter(current.branches, segments[index + 1])) break;
        index += 2;
      }
    } else if (name === 'fallback' && asRecord(current.fallback)) {
      separator = '~';
      if (!enter([current.fallback], 0)) break;
      index += 1;
    } else break;
  }
  const rest = segments
    .slice(index)
    .map((segment) => (typeof segment === 'number' ? `[${segment}]` : `.${segment}`))
    .join('')
    .replace(/^\./, '');
  return { path, rest };
}

/** Every issue on its step, in the API's order. */
export function issuesByStep(definition: unknown, issues: readonly ValidationIssue[]): StepIssue[] {
  return issues.map((issue) => {
    const { path, rest } = stepOfField(definition, issue.field);
    return { path, field: path === null ? issue.field : rest, message: issue.message };
  });
}
