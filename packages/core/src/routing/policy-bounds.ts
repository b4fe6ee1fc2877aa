/** Bounds that keep a route cheap to validate, store and run. */
export const policyLimits = { maxDepth: 8, maxTargets: 64 } as const;

export interface PolicyBoundsIssue {
  path: (string | number)[];
  message: string;
}

/**
 * Checks nesting depth and the number of targets on the raw input, before the schema recurses
 * into it, so that a hostile document cannot make validation itself expensive. Also rejects a
 * `weight` outside a loadbalance node and a `semanticCache` below the top node, where they would
 * silently mean nothing.
 */
export function checkPolicyBounds(input: unknown): PolicyBoundsIssue | undefined {
  let targets = 0;
  const visit = (
    node: unknown,
    path: (string | number)[],
    depth: number,
    underLoadbalance: boolean,
  ): PolicyBoundsIssue | undefined => {
    if (depth > policyLimits.maxDepth) {
      return { path, message: `nests deeper than ${policyLimits.maxDepth} levels` };
    }
    if (typeof node === 'string') {
      targets += 1;
    } else if (node !== null && typeof node === 'object' && !Array.isArray(node)) {
      const record = node as Record<string, unknown>;
      if (record.weight !== undefined && !underLoadbalance) {
        return { path: [...path, 'weight'], message: 'only applies to the targets of a loadbalance node' };
      }
      if (record.semanticCache !== undefined && depth > 1) {
        return { path: [...path, 'semanticCache'], message: "applies to the route's top node only" };
      }
      if (record.strategy === 'single') targets += 1;
      const children: [unknown, (string | number)[]][] = [];
      if (Array.isArray(record.targets)) {
        record.targets.forEach((child, index) => {
          children.push([child, [...path, 'targets', index]]);
        });
      }
      if (Array.isArray(record.conditions)) {
        record.conditions.forEach((clause, index) => {
          if (clause !== null && typeof clause === 'object' && 'use' in clause) {
            children.push([clause.use, [...path, 'conditions', index, 'use']]);
          }
        });
      }
      if ('default' in record) children.push([record.default, [...path, 'default']]);
      for (const [child, childPath] of children) {
        const issue: PolicyBoundsIssue | undefined = visit(
          child,
          childPath,
          depth + 1,
          record.strategy === 'loadbalance' && childPath.at(-2) === 'targets',
        );
        if (issue !== undefined) return issue;
      }
    }
    if (targets > policyLimits.maxTargets) {
      return { path, message: `a route may hold at most ${policyLimits.maxTargets} targets` };
    }
    return undefined;
  };
  return visit(input, [], 1, false);
}
