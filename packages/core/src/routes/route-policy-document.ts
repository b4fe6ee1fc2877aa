import { z } from 'zod';
import { checkPolicyBounds } from '../routing/policy-bounds.ts';
import { type RoutePolicy, type RoutePolicyInput, routePolicySchema } from '../routing/route-policy.ts';

/**
 * A policy as users send it (REST bodies, `ensemble.yaml`): bounds checked on the raw input first,
 * so a hostile document never makes the schema recurse deeply, then core's policy schema. Issues
 * carry the path inside the policy (`targets[1].target`), which callers prefix with where the policy
 * was written (`body.policy`, `routes[0].policy`). The same checks as `parseRoutePolicy`.
 */
export const routePolicyDocumentSchema: z.ZodType<RoutePolicy, RoutePolicyInput> = z.preprocess((value, ctx) => {
  const bounds = checkPolicyBounds(value);
  // An issue here stops the pipe: the schema never sees an over-deep or over-wide tree.
  if (bounds !== undefined) ctx.addIssue({ code: 'custom', path: bounds.path, message: bounds.message, input: value });
  return value;
}, routePolicySchema) as unknown as z.ZodType<RoutePolicy, RoutePolicyInput>;
