import type { Route, RouteLookup } from '@ensemble/core';

/** Where the cache reads on a miss: route storage, uncached. */
export interface RouteSource {
  current(projectId: string, name: string): Promise<Route | undefined>;
  currentAll(projectId: string): Promise<Route[]>;
}

export interface RouteLookupCacheOptions {
  source: RouteSource;
  /** How long an answer is served before it is read again (in the background once known). 0 caches nothing. */
  ttlMs?: number;
  /** Per kind (routes found, names that are no route): beyond this many, the oldest answers go first. */
  maxEntries?: number;
  now?: () => number;
}

interface Entry<T> {
  readonly projectId: string;
  /** Handed to every caller as is: a hit allocates nothing. */
  answer: Promise<T>;
  settled: boolean;
  expiresAt: number;
}

/**
 * The gateway's route lookups from memory. Every answer is cached per (project, name), "no such
 * route" too (the common case: most names are models), in two bounded maps so a flood of made-up
 * names cannot push real routes out. A hit returns the stored promise: one `Map.get` and a clock
 * read. After `ttlMs` a known answer is still served while a background read refreshes it, so no
 * request waits on PostgreSQL after the first, and a PostgreSQL outage keeps the last answers.
 * `invalidate(projectId)` drops a whole project (a changed route may be nested in others), so the next
 * call reads afresh; a refresh that was in flight during it is not kept.
 */
export class RouteLookupCache implements RouteLookup {
  readonly #source: RouteSource;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #routes = new Map<string, Entry<Route | undefined>>();
  readonly #absent = new Map<string, Entry<Route | undefined>>();
  readonly #lists = new Map<string, Entry<readonly Route[]>>();
  /** Bumped by every invalidation, so a read that started before one does not store what it read. */
  #generation = 0;

  constructor(options: RouteLookupCacheOptions) {
    this.#source = options.source;
    this.#ttlMs = options.ttlMs ?? 5_000;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#now = options.now ?? performance.now.bind(performance);
  }

  get size(): number {
    return this.#routes.size + this.#absent.size + this.#lists.size;
  }

  current(projectId: string, name: string): Promise<Route | undefined> {
    // `name@2` and `name:alias` always mean models: no entry, no query.
    if (name.includes('@') || name.includes(':')) return noRoute;
    const key = `${projectId}\u0000${name}`;
    const entry = this.#absent.get(key) ?? this.#routes.get(key);
    if (entry !== undefined) {
      if (entry.expiresAt > this.#now() || !entry.settled) return entry.answer;
      entry.expiresAt = this.#now() + this.#ttlMs;
      this.#refresh(key, entry, () => this.#source.current(projectId, name), sameRoute);
      return entry.answer;
    }
    if (this.#ttlMs === 0) return this.#source.current(projectId, name);
    const loading = this.#load(key, projectId, () => this.#source.current(projectId, name), this.#absent);
    // Filed once known: routes and absences are bounded separately.
    loading.answer.then(
      (route) => {
        if (route !== undefined && this.#absent.get(key) === loading) {
          this.#absent.delete(key);
          this.#store(this.#routes, key, loading);
        }
      },
      () => undefined,
    );
    return loading.answer;
  }

  list(projectId: string): Promise<readonly Route[]> {
    const entry = this.#lists.get(projectId);
    if (entry !== undefined) {
      if (entry.expiresAt > this.#now() || !entry.settled) return entry.answer;
      entry.expiresAt = this.#now() + this.#ttlMs;
      this.#refresh(
        projectId,
        entry,
        () => this.#source.currentAll(projectId),
        () => false,
        this.#lists,
      );
      return entry.answer;
    }
    if (this.#ttlMs === 0) return this.#source.currentAll(projectId);
    return this.#load(projectId, projectId, () => this.#source.currentAll(projectId), this.#lists).answer;
  }

  /** Forgets every answer about a project (one of its routes changed). */
  invalidate(projectId: string): void {
    this.#generation += 1;
    for (const map of [this.#routes, this.#absent]) {
      for (const [key, entry] of map) {
        if (entry.projectId === projectId) map.delete(key);
      }
    }
    this.#lists.delete(projectId);
  }

  /** Forgets everything (e.g. change notifications may have been missed). */
  clear(): void {
    this.#generation += 1;
    this.#routes.clear();
    this.#absent.clear();
    this.#lists.clear();
  }

  #load<T>(key: string, projectId: string, read: () => Promise<T>, map: Map<string, Entry<T>>): Entry<T> {
    const entry: Entry<T> = { projectId, answer: read(), settled: false, expiresAt: this.#now() + this.#ttlMs };
    const generation = this.#generation;
    this.#store(map, key, entry);
    entry.answer.then(
      () => {
        entry.settled = true;
        // Read before an invalidation: serve it to whoever asked meanwhile, but do not keep it.
        if (generation !== this.#generation && map.get(key) === entry) map.delete(key);
      },
      () => {
        // An outage is not an answer: the next call asks again.
        if (map.get(key) === entry) map.delete(key);
      },
    );
    return entry;
  }

  #refresh<T>(
    key: string,
    entry: Entry<T>,
    read: () => Promise<T>,
    same: (a: T, b: T) => boolean,
    map?: Map<string, Entry<T>>,
  ): void {
    const generation = this.#generation;
    read().then(
      async (fresh) => {
        if (generation !== this.#generation) return;
        const known = await entry.answer;
        // The same version keeps its object, so what callers derived from it (expanded nested routes) stays valid.
        if (!same(known, fresh)) entry.answer = Promise.resolve(fresh);
        // A route that appeared or went away moves to the other map.
        if (map === undefined && (known === undefined) !== (fresh === undefined)) {
          const from = (known === undefined ? this.#absent : this.#routes) as Map<string, Entry<T>>;
          const to = (known === undefined ? this.#routes : this.#absent) as Map<string, Entry<T>>;
          if (from.get(key) === entry) {
            from.delete(key);
            this.#store(to, key, entry);
          }
        }
      },
      () => {
        // PostgreSQL unreachable: keep serving the last answer; the next expiry tries again.
      },
    );
  }

  #store<T>(map: Map<string, Entry<T>>, key: string, entry: Entry<T>): void {
    map.delete(key);
    if (map.size >= this.#maxEntries) {
      // Maps iterate in insertion order: the first key is the oldest answer.
      const oldest = map.keys().next();
      if (oldest.done !== true) map.delete(oldest.value);
    }
    map.set(key, entry);
  }
}

const noRoute: Promise<Route | undefined> = Promise.resolve(undefined);

/** Equal content (a route deleted and declared again restarts at version 1, so the version alone is not enough). */
function sameRoute(a: Route | undefined, b: Route | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return (
    a.name === b.name &&
    a.version === b.version &&
    a.description === b.description &&
    JSON.stringify(a.policy) === JSON.stringify(b.policy)
  );
}
