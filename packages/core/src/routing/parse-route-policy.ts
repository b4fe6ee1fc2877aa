import type { z } from 'zod';
import { validationError } from '../errors/ensemble-error.ts';
import { checkPolicyBounds, type PolicyBoundsIssue } from './policy-bounds.ts';
import { type RoutePolicy, routePolicySchema } from './route-policy.ts';

/**
 * Validates a policy tree (bounds first, then the schema). A bad one is a `validation_failed`
 * error whose field names the offending place, e.g. `policy.targets[1].conditions[0].when.params.max_tokens.$gt`;
 * `details.issues` lists every problem found.
 */
export function parseRoutePolicy(input: unknown, field = 'policy'): RoutePolicy {
  const bounds = checkPolicyBounds(input);
  if (bounds !== undefined) throw boundsError(field, bounds);
  const result = routePolicySchema.safeParse(input);
  if (result.success) return result.data;
  throw issuesError(field, result.error.issues);
}

export function boundsError(field: string, bounds: PolicyBoundsIssue) {
  const path = formatPath(field, bounds.path);
  return validationError(path, bounds.message, { issues: [{ path, message: bounds.message }] });
}

export function issuesError(field: string, zodIssues: readonly z.core.$ZodIssue[]) {
  const issues = zodIssues.map((issue) => ({ path: formatPath(field, issue.path), message: issue.message }));
  const first = issues[0] ?? { path: field, message: 'is invalid' };
  return validationError(first.path, first.message, { issues });
}

/** `policy`, `['targets', 1, 'when']` → `policy.targets[1].when`. */
export function formatPath(root: string, path: readonly PropertyKey[]): string {
  let text = root;
  for (const segment of path) {
    text += typeof segment === 'number' ? `[${segment}]` : text === '' ? String(segment) : `.${String(segment)}`;
  }
  return text;
}
