import { maxRouteHops } from '../routing/policy-runner.ts';

/** What is wrong with the routes a route would point at: the first target to blame and why. */
export interface RouteGraphProblem {
  /** The target of the checked route that leads to the problem (undefined: the route itself). */
  target: string | undefined;
  message: string;
}

/** Routes call routes by their bare name; `name@2` and `name:alias` always mean a model. */
function isPlain(target: string): boolean {
  return !target.includes('@') && !target.includes(':');
}

/**
 * Checks, before a route's new targets are stored, that routes still form no loop and that no chain
 * of nested routes is deeper than the gateway follows (the root plus `maxRouteHops` nested routes;
 * the router refuses more at run time). `routes` maps every active route of the project to its
 * current targets; `name`'s entry is replaced by `targets`. Routes that were fine stay fine, so only
 * chains through `name` are examined.
 */
export function checkRouteGraph(
  routes: ReadonlyMap<string, readonly string[]>,
  name: string,
  targets: readonly string[],
): RouteGraphProblem | undefined {
  const graph = new Map(routes);
  graph.set(name, targets);
  const children = (route: string) => [...new Set(graph.get(route) ?? [])].filter((t) => isPlain(t) && graph.has(t));

  for (const target of children(name)) {
    const loop = pathTo(target, name, children);
    if (loop !== undefined) {
      return {
        target,
        message: `leads back to '${name}' (${[name, ...loop].join(' → ')}): routes may not form a loop`,
      };
    }
  }

  const down = longestChains(children);
  const parents = new Map<string, string[]>();
  for (const route of graph.keys()) {
    for (const child of children(route)) parents.set(child, [...(parents.get(child) ?? []), route]);
  }
  const up = longestChains((route) => parents.get(route) ?? []);
  const above = up(name).slice(1).reverse();
  const below = down(name);
  const chain = [...above, ...below];
  if (chain.length > maxRouteHops + 1) {
    return {
      target: below[1],
      message: `nests routes ${chain.length} deep (${chain.join(' → ')}); the gateway follows a route and at most ${maxRouteHops} nested routes`,
    };
  }
  return undefined;
}

/** A path of routes from `from` to `to` (both included), if there is one. */
function pathTo(from: string, to: string, children: (route: string) => string[]): string[] | undefined {
  const seen = new Set<string>();
  const visit = (route: string): string[] | undefined => {
    if (route === to) return [route];
    if (seen.has(route)) return undefined;
    seen.add(route);
    for (const child of children(route)) {
      const rest = visit(child);
      if (rest !== undefined) return [route, ...rest];
    }
    return undefined;
  };
  return visit(from);
}

/** For each route, the longest chain that starts at it (itself first), memoised; tolerant of loops elsewhere. */
function longestChains(next: (route: string) => string[]): (route: string) => string[] {
  const memo = new Map<string, string[]>();
  const onPath = new Set<string>();
  const chain = (route: string): string[] => {
    const known = memo.get(route);
    if (known !== undefined) return known;
    onPath.add(route);
    let longest: string[] = [];
    for (const child of next(route)) {
      if (onPath.has(child)) continue;
      const candidate = chain(child);
      if (candidate.length > longest.length) longest = candidate;
    }
    onPath.delete(route);
    const result = [route, ...longest];
    memo.set(route, result);
    return result;
  };
  return chain;
}
