import type {
  NewRoute,
  NewRouteVersion,
  RouteStatus,
  RouteVersion,
  StoredRoute,
  UpdateRoute,
} from '../routes/stored-route.ts';
import type { Route } from '../routing/route.ts';
import type { ChangeContext } from './model-repository.ts';
import type { Page } from './project-repository.ts';

export interface RouteListOptions {
  limit: number;
  /** A cursor from a previous page. */
  after?: string;
  status?: RouteStatus;
  /** Routes whose current version targets this model or route (`name` matches `name@2` and `name:prod` too). */
  target?: string;
}

/** A change, and where its input was written, so errors name it (`body`, `routes[0]`). */
export interface RouteChangeContext extends ChangeContext {
  field?: string;
}

/**
 * Route storage. Names are unique per project and never a model's name there (the gateway resolves a
 * name as a route first, so a route would hide the model: `conflict`). Versions are immutable; the
 * current one is the newest unless moved. Every write checks, in its transaction, that each target
 * names an existing model (version, alias) or active route of the project, that routes form no loop
 * and nest no deeper than the gateway follows: `validation_failed` naming the target's path
 * (`body.policy.targets[1].target`). Unknown names throw `not_found`.
 */
export interface RouteRepository {
  /** Ordered by name. */
  list(projectId: string, options: RouteListOptions): Promise<Page<StoredRoute>>;
  get(projectId: string, name: string): Promise<StoredRoute>;
  /** Creates the route and its version 1. */
  create(projectId: string, route: NewRoute, context: RouteChangeContext): Promise<StoredRoute>;
  /** A new immutable version, made current; `conflict` when the route is retired. */
  addVersion(
    projectId: string,
    name: string,
    version: NewRouteVersion,
    context: RouteChangeContext,
  ): Promise<StoredRoute>;
  /** Newest first; `after` is a version number from a previous page. */
  listVersions(
    projectId: string,
    name: string,
    options: { limit: number; after?: number },
  ): Promise<Page<RouteVersion>>;
  getVersion(projectId: string, name: string, version: number): Promise<RouteVersion>;
  /**
   * Moves the current version or changes the status. Making a version current or a route active again
   * re-checks its targets. Retiring a route that active routes target is a `conflict` naming them.
   */
  update(projectId: string, name: string, patch: UpdateRoute, context: RouteChangeContext): Promise<StoredRoute>;
  /** Deletes the route and its versions; a `conflict` while active routes target it. */
  purge(projectId: string, name: string, context: RouteChangeContext): Promise<void>;

  /** The gateway's read: the current version of an active route, or `undefined`. Uncached. */
  current(projectId: string, name: string): Promise<Route | undefined>;
  /** The current version of every active route of a project, by name. Uncached. */
  currentAll(projectId: string): Promise<Route[]>;
}
