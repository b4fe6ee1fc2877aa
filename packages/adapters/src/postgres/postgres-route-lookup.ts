import { type Logger, type Route, type RouteLookup, silentLogger } from '@ensemble/core';
import type pg from 'pg';
import type { Database } from './create-database.ts';
import { jitter, pause } from './pause.ts';
import type { PostgresRouteRepository } from './postgres-route-repository.ts';
import { routesChannel } from './postgres-route-repository.ts';
import { RouteLookupCache } from './route-lookup-cache.ts';

export interface PostgresRouteLookupOptions {
  database: Database;
  routes: PostgresRouteRepository;
  /** Upper bound on staleness when change notifications cannot be received (default 5 s). */
  ttlMs?: number;
  maxEntries?: number;
  logger?: Logger;
  /** Longest wait between attempts to listen again after the connection was lost (default 30 s). */
  maxRetryMs?: number;
}

/**
 * The gateway's `RouteLookup`: answers from `RouteLookupCache`, emptied for a project the moment a
 * route of it changes — on this instance through the repository's `onChange`, on every other one
 * through PostgreSQL `LISTEN ensemble_routes` (the repository NOTIFYs at commit). While the listening
 * connection is down the cache is emptied and answers live at most `ttlMs`, so staleness stays
 * bounded; it reconnects in the background.
 */
export class PostgresRouteLookup implements RouteLookup {
  readonly #options: PostgresRouteLookupOptions;
  readonly #cache: RouteLookupCache;
  readonly #logger: Logger;
  readonly #stop = new AbortController();
  readonly #unsubscribe: () => void;
  #listener: pg.Client | undefined;
  #running: Promise<void> | undefined;
  #lost: (() => void) | undefined;

  constructor(options: PostgresRouteLookupOptions) {
    this.#options = options;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'route-lookup' });
    this.#cache = new RouteLookupCache({
      source: options.routes,
      ...(options.ttlMs === undefined ? {} : { ttlMs: options.ttlMs }),
      ...(options.maxEntries === undefined ? {} : { maxEntries: options.maxEntries }),
    });
    this.#unsubscribe = options.routes.onChange((projectId) => this.#cache.invalidate(projectId));
  }

  current(projectId: string, name: string): Promise<Route | undefined> {
    return this.#cache.current(projectId, name);
  }

  list(projectId: string): Promise<readonly Route[]> {
    return this.#cache.list(projectId);
  }

  /** True while other instances' changes arrive as they commit. */
  get listening(): boolean {
    return this.#listener !== undefined;
  }

  /** Starts listening; resolves once listening, or after the first failed attempt (retried in the background). */
  start(): Promise<void> {
    if (this.#running !== undefined) return Promise.resolve();
    let firstAttempt: () => void = () => undefined;
    const first = new Promise<void>((resolve) => {
      firstAttempt = resolve;
    });
    this.#running = this.#run(firstAttempt);
    return first;
  }

  async close(): Promise<void> {
    this.#stop.abort();
    this.#unsubscribe();
    this.#lost?.();
    await this.#running;
    this.#cache.clear();
  }

  async #run(firstAttempt: () => void): Promise<void> {
    const maxRetryMs = this.#options.maxRetryMs ?? 30_000;
    let failures = 0;
    while (!this.#stop.signal.aborted) {
      const client = this.#options.database.dedicatedClient({
        statementTimeoutMs: 0,
        applicationName: 'ensemble-route-lookup',
      });
      const lost = new Promise<void>((resolve) => {
        this.#lost = resolve;
        client.on('error', () => resolve());
        client.on('end', () => resolve());
      });
      client.on('notification', (message) => {
        if (message.channel === routesChannel && message.payload !== undefined) this.#cache.invalidate(message.payload);
      });
      try {
        await client.connect();
        await client.query(`listen ${routesChannel}`);
        this.#listener = client;
        // Changes made while nobody listened were missed: start from nothing.
        this.#cache.clear();
        if (failures > 0) this.#logger.info({}, 'listening for route changes again');
        failures = 0;
        firstAttempt();
        await lost;
      } catch (error) {
        failures += 1;
        if (failures === 1 || failures % 10 === 0) {
          this.#logger.warn(
            { err: String(error), failures },
            'cannot listen for route changes; other instances’ changes arrive within the cache TTL',
          );
        }
        firstAttempt();
      } finally {
        this.#listener = undefined;
        this.#cache.clear();
        await client.end().catch(() => undefined);
      }
      if (!this.#stop.signal.aborted && failures === 0) {
        this.#logger.warn({}, 'lost the route change listener; reconnecting');
      }
      await pause(jitter(Math.min(maxRetryMs, 250 * 2 ** Math.min(failures, 8))), this.#stop.signal);
    }
  }
}
