import { parseModelRef, type Route, type RouteLookup, type RoutePolicy } from '@ensemble/core';

/** Routes a route refers to, by name, loaded ahead (routing itself does no I/O). */
export type NestedRoutes = ReadonlyMap<string, RoutePolicy>;

interface Expanded {
  nested: NestedRoutes;
  expiresAt: number;
}

/** Deeper than the router follows anyway (it refuses more than 4 hops). */
const maxDepth = 5;

/**
 * Finds which targets of a route name other routes and loads those, so the router can expand them
 * synchronously. Remembered per route version object for `ttlMs` (route lookups cache their
 * answers, so the same object comes back while nothing changed).
 */
export class RouteTargets {
  readonly #lookup: RouteLookup;
  readonly #ttlMs: number;
  readonly #expanded = new WeakMap<Route, Expanded>();

  constructor(lookup: RouteLookup, ttlMs = 2_000) {
    this.#lookup = lookup;
    this.#ttlMs = ttlMs;
  }

  async nested(projectId: string, route: Route): Promise<NestedRoutes> {
    const now = performance.now();
    const known = this.#expanded.get(route);
    if (known !== undefined && known.expiresAt > now) return known.nested;
    const nested = new Map<string, RoutePolicy>();
    let frontier: RoutePolicy[] = [route.policy];
    for (let depth = 0; depth < maxDepth && frontier.length > 0; depth += 1) {
      const names = [...new Set(frontier.flatMap(singleTargets))].filter(
        (name) => !nested.has(name) && name !== route.name && isPlainName(name),
      );
      const found = await Promise.all(names.map((name) => this.#lookup.current(projectId, name)));
      frontier = [];
      for (const [index, child] of found.entries()) {
        const name = names[index];
        if (child === undefined || name === undefined) continue;
        nested.set(name, child.policy);
        frontier.push(child.policy);
      }
    }
    this.#expanded.set(route, { nested, expiresAt: now + this.#ttlMs });
    return nested;
  }
}

/** Every `single` target in a policy tree. */
function singleTargets(policy: RoutePolicy): string[] {
  switch (policy.strategy) {
    case 'single':
      return [policy.target];
    case 'fallback':
    case 'loadbalance':
      return policy.targets.flatMap(singleTargets);
    case 'conditional':
      return [...policy.conditions.map((clause) => clause.use), policy.default].flatMap(singleTargets);
  }
}

/** Routes are called by bare name; `name@2` or `name:prod` is a model version or alias. */
function isPlainName(target: string): boolean {
  return parseModelRef(target, 'target').selector.kind === 'default';
}
