import { hash } from 'node:crypto';
import type {
  Principal,
  ProjectRole,
  SessionAuthentication,
  SessionAuthenticator,
  SessionPrincipal,
} from '@ensemble/core';
import { type Kysely, sql } from 'kysely';
import { randomBase62 } from '../auth/api-key-secret.ts';
import type { DatabaseSchema } from './database-schema.ts';

type Db = Kysely<DatabaseSchema>;

export interface PostgresSessionStoreOptions {
  /** How long a session lasts from sign-in. */
  ttlMs: number;
  /** How long a checked session is trusted from memory: a revocation elsewhere arrives within it. */
  cacheTtlMs: number;
  now?: () => number;
}

const sessionPrefix = 'ses_';

/** The CSRF token of a session: derived from its secret, so nothing more is stored and it opens nothing. */
export function csrfTokenOf(secret: string): string {
  return hash('sha256', `ensemble-csrf:${secret}`, 'base64url');
}

function sha256(secret: string): Buffer {
  return hash('sha256', secret, 'buffer');
}

interface Cached {
  answer: SessionAuthentication;
  until: number;
}

const unknown = Object.freeze({ failure: 'unknown' } as const);
const expired = Object.freeze({ failure: 'expired' } as const);

/**
 * Console sessions in PostgreSQL (`user_sessions`): the cookie holds a random secret (`ses_` and 43
 * base62 characters, 256 bits), the table its SHA-256. A session answers for its user's roles as they
 * are now (read with it), so a role change or a disabled account applies within `cacheTtlMs`.
 */
export class PostgresSessionStore implements SessionAuthenticator {
  readonly #db: Db;
  readonly #ttlMs: number;
  readonly #cacheTtlMs: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, Cached>();

  constructor(db: Db, options: PostgresSessionStoreOptions) {
    this.#db = db;
    this.#ttlMs = options.ttlMs;
    this.#cacheTtlMs = options.cacheTtlMs;
    this.#now = options.now ?? Date.now;
  }

  /** Opens a session for `userId`; the secret goes in the cookie and is never stored. */
  async open(userId: string, sourceIp: string): Promise<{ secret: string; csrfToken: string; expiresAt: Date }> {
    const secret = `${sessionPrefix}${randomBase62(43)}`;
    const expiresAt = new Date(this.#now() + this.#ttlMs);
    await this.#db
      .insertInto('user_sessions')
      .values({ secret_sha256: sha256(secret), user_id: userId, expires_at: expiresAt, source_ip: sourceIp })
      .execute();
    return { secret, csrfToken: csrfTokenOf(secret), expiresAt };
  }

  /** Ends a session (logout): at once here, on other instances within `cacheTtlMs`. */
  async revoke(secret: string): Promise<void> {
    const key = sha256(secret);
    this.#cache.delete(key.toString('hex'));
    await this.#db
      .updateTable('user_sessions')
      .set({ revoked_at: sql`coalesce(revoked_at, now())` })
      .where('secret_sha256', '=', key)
      .execute();
  }

  async authenticateSession(secret: string): Promise<SessionAuthentication> {
    if (!secret.startsWith(sessionPrefix) || secret.length !== sessionPrefix.length + 43) return unknown;
    const key = sha256(secret);
    const id = key.toString('hex');
    const now = this.#now();
    const cached = this.#cache.get(id);
    if (cached !== undefined && cached.until > now) return cached.answer;
    const row = await this.#db
      .selectFrom('user_sessions as s')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .select(['s.user_id', 's.expires_at', 's.revoked_at', 'u.disabled_at', 'u.platform_admin'])
      .where('s.secret_sha256', '=', key)
      .executeTakeFirst();
    let answer: SessionAuthentication;
    let until = now + this.#cacheTtlMs;
    if (row === undefined || row.revoked_at !== null || row.disabled_at !== null) answer = unknown;
    else if (row.expires_at.getTime() <= now) answer = expired;
    else {
      const memberships = await this.#db
        .selectFrom('user_memberships')
        .select(['project_id', 'role'])
        .where('user_id', '=', row.user_id)
        .execute();
      answer = {
        session: sessionPrincipal(
          row.user_id,
          row.platform_admin,
          new Map(memberships.map((m) => [m.project_id, m.role])),
          csrfTokenOf(secret),
        ),
      };
      until = Math.min(until, row.expires_at.getTime());
    }
    if (this.#cacheTtlMs > 0) {
      if (this.#cache.size >= 10_000) this.#cache.delete(this.#cache.keys().next().value as string);
      this.#cache.set(id, { answer, until });
    }
    return answer;
  }

  /** The session's user, or `undefined` for an unknown, expired or revoked one (uncached). */
  async userOf(secret: string): Promise<string | undefined> {
    const answer = await this.authenticateSession(secret);
    return 'session' in answer ? answer.session.userId : undefined;
  }
}

function sessionPrincipal(
  userId: string,
  platformAdmin: boolean,
  roles: ReadonlyMap<string, ProjectRole>,
  csrfToken: string,
): SessionPrincipal {
  const principals = new Map<string, Principal>();
  return Object.freeze({
    userId,
    platformAdmin,
    roles,
    csrfToken,
    principalIn(projectId: string): Principal | undefined {
      let principal = principals.get(projectId);
      if (principal !== undefined) return principal;
      const role = platformAdmin ? 'owner' : roles.get(projectId);
      if (role === undefined) return undefined;
      principal = Object.freeze({
        keyId: null,
        userId,
        projectId,
        admin: platformAdmin,
        role,
        tags: Object.freeze([]),
      });
      principals.set(projectId, principal);
      return principal;
    },
  });
}
