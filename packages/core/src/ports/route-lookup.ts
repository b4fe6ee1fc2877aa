import type { Route } from '../routing/route.ts';

/**
 * What the gateway needs from route storage: the current version of a route by name, in a project.
 * `undefined` means "no such route", and the name is then looked up as a model. Implementations
 * cache (routes change rarely and the gateway asks on every call) and drop the cache on change.
 */
export interface RouteLookup {
  current(projectId: string, name: string): Promise<Route | undefined>;
  /** The current version of every route of a project (for `GET /v1/models`); without it, routes are not listed. */
  list?(projectId: string): Promise<readonly Route[]>;
}
