import {
  type Clock,
  createRouter,
  EnsembleError,
  type KindExpectation,
  type LoadedModel,
  type Principal,
  type Route,
  type RouteContext,
  type RouteLookup,
  type Router,
  type RouteTrace,
} from '@ensemble/core';
import type { FastifyBaseLogger } from 'fastify';
import type { ModelTargets } from './model-targets.ts';
import type { ProjectBreakers } from './project-breakers.ts';
import type { RouteTargets } from './route-targets.ts';

/** One call to one target (a model): resolves to its answer, or to its stream. */
export type TargetAttempt<T> = (loaded: LoadedModel, signal: AbortSignal) => Promise<T>;

/** A stream whose first chunk is in hand: from here on there is no falling back. */
export interface OpenedStream<C> {
  first: IteratorResult<C>;
  iterator: AsyncIterator<C>;
}

/** How a call went: the answer and the model that gave it. */
export interface CallOutcome<T> {
  value: T;
  loaded: LoadedModel;
  /** The route's version that was run, when the name was a route. */
  route: Route | undefined;
  /** Upstream attempts made (1 for a plain model). */
  attempts: number;
  /** A route's attempts in order (a stream's grows until it ends); absent for a plain model. */
  trace?: RouteTrace | undefined;
}

export interface CallRequest {
  /** Whose call it is: routes, models and breakers are the project's. */
  principal: Pick<Principal, 'projectId'>;
  /** The name the client sent (a route or a model). */
  requested: string;
  /** A route version chosen already (a job pinned to it): run without looking `requested` up. */
  route?: Route;
  expectation: KindExpectation;
  /** What conditional routes look at. */
  context: () => RouteContext;
  /** Stops everything (the client left, the call ran too long). */
  signal: AbortSignal;
  log: Pick<FastifyBaseLogger, 'debug' | 'info' | 'warn'>;
  /** Told as soon as the name turned out to be a route (so a failure is recorded against it). */
  onRoute(route: Route): void;
  /** Told of each model about to be called (so a failure is recorded against the last one tried). */
  onTarget(loaded: LoadedModel): void;
}

export interface CallRunnerOptions {
  targets: ModelTargets;
  routes: RouteLookup | undefined;
  routeTargets: RouteTargets | undefined;
  breakers: ProjectBreakers;
  clock: Clock;
  /** Told of every route call's attempts (for metrics). */
  onTrace?: (trace: RouteTrace) => void;
}

/**
 * Runs one gateway call: the requested name is looked up as a route first, then as a model. A
 * model is called once, directly (the hot path: no router in between). A route runs on core's
 * router — retries, fallbacks, weighted draws, conditions, circuit breakers shared process-wide per
 * project — each attempt going to one model through the pass-through or LangChain; the trace of
 * attempts is logged. Streams fall back only until their first chunk.
 */
export class CallRunner {
  readonly #options: CallRunnerOptions;
  readonly #routers = new Map<string, Router>();

  constructor(options: CallRunnerOptions) {
    this.#options = options;
  }

  async run<T>(call: CallRequest, attempt: TargetAttempt<T>): Promise<CallOutcome<T>> {
    const route = await this.#route(call);
    if (route === undefined) {
      const loaded = await this.#options.targets.resolve(call.principal.projectId, call.requested, call.expectation);
      call.onTarget(loaded);
      return { value: await attempt(loaded, call.signal), loaded, route: undefined, attempts: 1 };
    }
    const { router, winners } = await this.#router(call, route);
    try {
      const { result, target, trace } = await router.route(
        route.policy,
        call.context(),
        (name, signal) => this.#attempt(call, winners, name, signal, attempt),
        call.signal,
      );
      logTrace(call, route, trace);
      this.#options.onTrace?.(trace);
      return { value: result, loaded: winner(winners, target), route, attempts: countAttempts(trace), trace };
    } catch (error) {
      throw this.#traced(call, route, error);
    }
  }

  async stream<C>(call: CallRequest, attempt: TargetAttempt<AsyncIterable<C>>): Promise<CallOutcome<OpenedStream<C>>> {
    const route = await this.#route(call);
    if (route === undefined) {
      const loaded = await this.#options.targets.resolve(call.principal.projectId, call.requested, call.expectation);
      call.onTarget(loaded);
      const iterator = (await attempt(loaded, call.signal))[Symbol.asyncIterator]();
      return { value: { first: await iterator.next(), iterator }, loaded, route: undefined, attempts: 1 };
    }
    const { router, winners } = await this.#router(call, route);
    try {
      const routed = await router.routeStream(
        route.policy,
        call.context(),
        (name, signal) => this.#attempt(call, winners, name, signal, attempt),
        call.signal,
      );
      logTrace(call, route, routed.trace);
      this.#options.onTrace?.(routed.trace);
      // The routed stream holds the first chunk already; reading it now costs nothing.
      const iterator = routed.stream;
      return {
        value: { first: await iterator.next(), iterator },
        loaded: winner(winners, routed.target),
        route,
        attempts: countAttempts(routed.trace),
        trace: routed.trace,
      };
    } catch (error) {
      throw this.#traced(call, route, error);
    }
  }

  #traced(call: CallRequest, route: Route, error: unknown): unknown {
    const trace = EnsembleError.isInstance(error) ? error.details?.trace : undefined;
    if (Array.isArray(trace)) {
      call.log.warn({ route: `${route.name}@${route.version}`, trace }, 'route failed');
      this.#options.onTrace?.(trace as RouteTrace);
    }
    return error;
  }

  async #route(call: CallRequest): Promise<Route | undefined> {
    const route = call.route ?? (await this.#options.routes?.current(call.principal.projectId, call.requested));
    if (route !== undefined) call.onRoute(route);
    return route;
  }

  async #router(call: CallRequest, route: Route) {
    const { routeTargets, breakers, clock } = this.#options;
    const { projectId } = call.principal;
    const nested = routeTargets === undefined ? undefined : await routeTargets.nested(projectId, route);
    const winners = new Map<string, LoadedModel>();
    if (nested !== undefined && nested.size > 0) {
      const resolveRoute = (name: string) => nested.get(name);
      return {
        router: createRouter({ clock, random: Math.random, breakers: breakers.of(projectId), resolveRoute }),
        winners,
      };
    }
    // Without nested routes a router holds nothing per call: one per project serves them all.
    let router = this.#routers.get(projectId);
    if (router === undefined) {
      router = createRouter({ clock, random: Math.random, breakers: breakers.of(projectId) });
      this.#routers.set(projectId, router);
    }
    return { router, winners };
  }

  async #attempt<T>(
    call: CallRequest,
    winners: Map<string, LoadedModel>,
    name: string,
    signal: AbortSignal,
    attempt: TargetAttempt<T>,
  ): Promise<T> {
    const loaded = await this.#options.targets.resolve(call.principal.projectId, name, call.expectation);
    // Attempts run one after another, so the last one made for a target name is the one that answered.
    winners.set(name, loaded);
    call.onTarget(loaded);
    return attempt(loaded, signal);
  }
}

function winner(winners: ReadonlyMap<string, LoadedModel>, target: string): LoadedModel {
  const loaded = winners.get(target);
  if (loaded === undefined)
    throw new EnsembleError('internal_error', `the router answered from '${target}', never called`);
  return loaded;
}

/** Tries that reached (or were meant to reach) an upstream; breaker skips do not count. */
export function countAttempts(trace: RouteTrace): number {
  return trace.filter((record) => record.outcome !== 'circuit_open').length;
}

function logTrace(call: CallRequest, route: Route, trace: RouteTrace): void {
  // A first-try success is the common case: kept at debug; anything else is worth an info line.
  const level = trace.length === 1 ? 'debug' : 'info';
  call.log[level]({ route: `${route.name}@${route.version}`, trace }, 'route attempts');
}
