import { z } from 'zod';
import { modelNameSchema, versionNumberSchema } from '../models/model-name.ts';
import { boundsError, issuesError } from './parse-route-policy.ts';
import { checkPolicyBounds } from './policy-bounds.ts';
import { type RoutePolicy, type RoutePolicyInput, routePolicySchema } from './route-policy.ts';

/**
 * A route: a virtual model clients call by name. Each version is immutable; changing a route
 * means adding a version (storage is the repositories' job).
 */
export interface Route {
  /** Same grammar as model names, since clients send it in `model`. */
  readonly name: string;
  readonly version: number;
  readonly policy: RoutePolicy;
  readonly description: string;
}

export interface RouteInput {
  name: string;
  version: number;
  policy: RoutePolicyInput;
  description?: string;
}

export const routeSchema = z.strictObject({
  name: modelNameSchema,
  version: versionNumberSchema,
  policy: routePolicySchema,
  description: z.string().max(2000).default(''),
});

/** Validates a route; errors name the field, e.g. `route.policy.targets[0].target`. */
export function parseRoute(input: unknown, field = 'route'): Route {
  if (input !== null && typeof input === 'object' && 'policy' in input) {
    const bounds = checkPolicyBounds(input.policy);
    if (bounds !== undefined) throw boundsError(field, { ...bounds, path: ['policy', ...bounds.path] });
  }
  const result = routeSchema.safeParse(input);
  if (result.success) return Object.freeze(result.data);
  throw issuesError(field, result.error.issues);
}
