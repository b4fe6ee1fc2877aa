import { formatPath } from '../routing/parse-route-policy.ts';
import type { RoutePolicy } from '../routing/route-policy.ts';

/** A `single` target of a policy and where it sits, e.g. `{ path: 'targets[1].target', target: 'openai/gpt-4o' }`. */
export interface PolicyTarget {
  path: string;
  target: string;
}

/** Every `single` target of a (parsed) policy tree, in document order, with its path. */
export function policyTargets(policy: RoutePolicy): PolicyTarget[] {
  const found: PolicyTarget[] = [];
  const visit = (node: RoutePolicy, path: (string | number)[]) => {
    switch (node.strategy) {
      case 'single':
        found.push({ path: formatPath('', [...path, 'target']), target: node.target });
        return;
      case 'fallback':
      case 'loadbalance':
        node.targets.forEach((child, index) => {
          visit(child, [...path, 'targets', index]);
        });
        return;
      case 'conditional':
        node.conditions.forEach((clause, index) => {
          visit(clause.use, [...path, 'conditions', index, 'use']);
        });
        visit(node.default, [...path, 'default']);
        return;
    }
  };
  visit(policy, []);
  return found;
}

/** The distinct target strings of a policy, as written (`name`, `name@2`, `name:production`). */
export function distinctTargets(policy: RoutePolicy): string[] {
  return [...new Set(policyTargets(policy).map((each) => each.target))];
}
