import { type Logger, silentLogger } from '@ensemble/core';
import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import pg from 'pg';
import { isDatabaseUnavailable, mapDatabaseError } from './database-errors.ts';
import type { DatabaseSchema } from './database-schema.ts';

export interface DatabaseOptions {
  /** `postgres://user:password@host:port/database` */
  url: string;
  poolSize?: number;
  /** How long a checkout may wait for a new connection before failing. */
  connectTimeoutMs?: number;
  /** Server-side limit for one statement (`statement_timeout`). */
  statementTimeoutMs?: number;
  /** Client-side limit for one query's answer; defaults to the statement timeout plus 5 s. */
  queryTimeoutMs?: number;
  idleTimeoutMs?: number;
  applicationName?: string;
  logger?: Logger;
}

export interface DedicatedClientOptions {
  /** 0 disables it, e.g. for migrations or for a session that only holds locks and listens. */
  statementTimeoutMs?: number;
  applicationName?: string;
}

/** A pool and the Kysely instance over it; one per process (tests create several). */
export interface Database {
  readonly db: Kysely<DatabaseSchema>;
  readonly pool: pg.Pool;
  /**
   * A connection outside the pool for sessions that must outlive one query: LISTEN, session-level
   * advisory locks, migrations. The caller connects and ends it, and must handle its `error` event.
   */
  dedicatedClient(options?: DedicatedClientOptions): pg.Client;
  close(): Promise<void>;
}

/**
 * Creates the pool and Kysely. Connections are made lazily, so this never fails when PostgreSQL is
 * down; Kysely queries then fail fast with `database_unavailable` and work again once it is back,
 * because pg discards broken clients and connects afresh on the next checkout. Code that uses
 * `pool` directly maps errors itself with `withDatabaseErrors`.
 */
export function createDatabase(options: DatabaseOptions): Database {
  const logger = (options.logger ?? silentLogger).child({ component: 'database' });
  const statementTimeoutMs = options.statementTimeoutMs ?? 30_000;
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
  const applicationName = options.applicationName ?? 'ensemble';
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: connectTimeoutMs,
    idleTimeoutMillis: options.idleTimeoutMs ?? 10_000,
    statement_timeout: statementTimeoutMs,
    query_timeout: options.queryTimeoutMs ?? statementTimeoutMs + 5_000,
    idle_in_transaction_session_timeout: statementTimeoutMs * 2,
    application_name: applicationName,
    keepAlive: true,
  });
  // An idle client whose server went away emits `error` on the pool; without a listener that
  // would crash the process. The pool has already dropped that client.
  pool.on('error', (error) => {
    logger.warn({ err: error.message, code: (error as { code?: string }).code }, 'an idle database connection failed');
  });
  // A client that is checked out has no pool listener, yet pg emits `error` on it when its server
  // goes away (even mid-query, besides failing the query): unhandled, that would crash the process.
  // The failed query reports the problem; the client is not queryable and is dropped on release.
  pool.on('connect', (client) => {
    client.on('error', (error) => {
      logger.debug({ err: error.message }, 'a database connection in use failed');
    });
  });

  let ended = false;
  const end = async () => {
    if (ended) return;
    ended = true;
    await pool.end();
  };
  const db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool: discardingBrokenClients(pool, end) }) });

  return {
    db,
    pool,
    dedicatedClient(dedicated = {}) {
      return new pg.Client({
        connectionString: options.url,
        connectionTimeoutMillis: connectTimeoutMs,
        statement_timeout: dedicated.statementTimeoutMs ?? statementTimeoutMs,
        application_name: dedicated.applicationName ?? applicationName,
        keepAlive: true,
      });
    },
    async close() {
      await db.destroy();
      await end();
    },
  };
}

/**
 * What Kysely sees of the pool. Connection-level failures surface as `database_unavailable`
 * EnsembleErrors, so every repository fails fast with a 503 while PostgreSQL is down, and other
 * errors (constraint violations, syntax) pass through untouched. Kysely releases a client without
 * saying whether it broke; after such a failure (e.g. pg's client-side query timeout, after which
 * the connection may still be busy) the client is destroyed instead of reused.
 */
function discardingBrokenClients(pool: pg.Pool, end: () => Promise<void>): PostgresPool {
  return {
    Client: pg.Client,
    options: pool.options,
    end,
    async connect(): Promise<PostgresPoolClient> {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw mapDatabaseError(error);
      }
      let broken = false;
      const query = ((...args: Parameters<pg.PoolClient['query']>) => {
        const result = (client.query as (...a: unknown[]) => unknown)(...args);
        if (result instanceof Promise) {
          return result.catch((error: unknown) => {
            if (!isDatabaseUnavailable(error)) throw error;
            broken = true;
            throw mapDatabaseError(error);
          });
        }
        return result;
      }) as PostgresPoolClient['query'];
      return {
        query,
        release(destroy?: boolean) {
          client.release(destroy || broken);
        },
      };
    },
  };
}
