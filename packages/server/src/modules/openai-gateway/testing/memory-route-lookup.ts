import { parseRoute, type Route, type RouteInput, type RouteLookup } from '@ensemble/core';

/** The route port in memory, for tests: routes validated by core's own parser, versions counted. */
export class MemoryRouteLookup implements RouteLookup {
  readonly #routes = new Map<string, Route>();

  /** Adds (or replaces with a new version) a route of a project. */
  set(projectId: string, route: Omit<RouteInput, 'version'>): Route {
    const key = `${projectId}\u0000${route.name}`;
    const version = (this.#routes.get(key)?.version ?? 0) + 1;
    const parsed = parseRoute({ ...route, version });
    this.#routes.set(key, parsed);
    return parsed;
  }

  async current(projectId: string, name: string): Promise<Route | undefined> {
    return this.#routes.get(`${projectId}\u0000${name}`);
  }

  async list(projectId: string): Promise<readonly Route[]> {
    return [...this.#routes].filter(([key]) => key.startsWith(`${projectId}\u0000`)).map(([, route]) => route);
  }
}
