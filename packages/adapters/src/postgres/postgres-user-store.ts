import {
  type ConsoleUser,
  EnsembleError,
  type newConsoleUserSchema,
  notFound,
  type OidcIdentity,
  type Page,
  type ProjectMember,
  type ProjectRole,
  validationError,
} from '@ensemble/core';
import { type Kysely, type Selectable, sql } from 'kysely';
import type { z } from 'zod';
import { randomBase62 } from '../auth/api-key-secret.ts';
import { hashPassword } from '../auth/password-hash.ts';
import { advisoryLockKey } from './advisory-lock-key.ts';
import type { DatabaseSchema, UsersTable } from './database-schema.ts';

type Db = Kysely<DatabaseSchema>;
type UserRow = Selectable<UsersTable>;

/** What sign-in needs about an account: never leaves the server. */
export interface LoginRecord {
  user: ConsoleUser;
  passwordHash: string | null;
}

/** What `ensureBootstrapUser` did, for the composition root to report. */
export type BootstrapUserOutcome = { kind: 'created'; user: ConsoleUser } | { kind: 'exists'; user: ConsoleUser };

export function generateUserId(): string {
  return `usr_${randomBase62(16)}`;
}

/**
 * Console users and their memberships in PostgreSQL (migration 0050). Reads through the API are
 * scoped by project: a user without a role in the caller's project is not found, like another
 * project's key.
 */
export class PostgresUserStore {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async create(projectId: string, user: z.output<typeof newConsoleUserSchema>): Promise<ProjectMember> {
    const passwordHash = user.password === undefined ? null : await hashPassword(user.password);
    try {
      return await this.#db.transaction().execute(async (trx) => {
        const project = await trx.selectFrom('projects').select('id').where('id', '=', projectId).executeTakeFirst();
        if (project === undefined) throw notFound('project', projectId);
        const row = await trx
          .insertInto('users')
          .values({
            id: generateUserId(),
            email: user.email,
            name: user.name ?? null,
            password_hash: passwordHash,
            platform_admin: user.platformAdmin,
            oidc_issuer: null,
            oidc_subject: null,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await trx
          .insertInto('user_memberships')
          .values({ user_id: row.id, project_id: projectId, role: user.role })
          .execute();
        return toMember(row, projectId, user.role);
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new EnsembleError('conflict', `a user with email '${user.email}' already exists`, {
          field: 'body.email',
        });
      }
      throw error;
    }
  }

  async list(projectId: string, options: { limit: number; after?: string }): Promise<Page<ProjectMember>> {
    let query = this.#db
      .selectFrom('user_memberships as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .selectAll('u')
      .select('m.role')
      .where('m.project_id', '=', projectId)
      .orderBy('u.email')
      .limit(options.limit + 1);
    if (options.after !== undefined) {
      if (!/^usr_[A-Za-z0-9]{16}$/.test(options.after)) {
        throw validationError(
          'querystring.after',
          'is not a cursor from a previous page (pass nextCursor back unchanged)',
        );
      }
      const after = options.after;
      query = query.where(sql<boolean>`u.email > (select email from users where id = ${after})`);
    }
    const rows = await query.execute();
    const items = rows.slice(0, options.limit).map((row) => toMember(row, projectId, row.role));
    const last = items.at(-1);
    return rows.length > options.limit && last ? { items, nextCursor: last.id } : { items };
  }

  async get(projectId: string, id: string): Promise<ProjectMember> {
    const row = await this.#db
      .selectFrom('user_memberships as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .selectAll('u')
      .select('m.role')
      .where('m.project_id', '=', projectId)
      .where('u.id', '=', id)
      .executeTakeFirst();
    if (row === undefined) throw notFound('user', id);
    return toMember(row, projectId, row.role);
  }

  async setRole(projectId: string, id: string, role: ProjectRole): Promise<ProjectMember> {
    const updated = await this.#db
      .updateTable('user_memberships')
      .set({ role })
      .where('project_id', '=', projectId)
      .where('user_id', '=', id)
      .returning('user_id')
      .executeTakeFirst();
    if (updated === undefined) throw notFound('user', id);
    return this.get(projectId, id);
  }

  async removeMember(projectId: string, id: string): Promise<ProjectMember> {
    const member = await this.get(projectId, id);
    await this.#db
      .deleteFrom('user_memberships')
      .where('project_id', '=', projectId)
      .where('user_id', '=', id)
      .execute();
    return member;
  }

  async disable(projectId: string, id: string, platform: boolean): Promise<ProjectMember> {
    await this.get(projectId, id);
    if (!platform) {
      const elsewhere = await this.#db
        .selectFrom('user_memberships')
        .select('project_id')
        .where('user_id', '=', id)
        .where('project_id', '<>', projectId)
        .executeTakeFirst();
      if (elsewhere !== undefined) {
        throw new EnsembleError(
          'conflict',
          'This account also belongs to other projects: remove it from this one (DELETE /api/users/{id}), or ask a platform admin to disable it',
          { details: { reason: 'other_projects' } },
        );
      }
    }
    await this.#db.transaction().execute(async (trx) => {
      await trx
        .updateTable('users')
        .set({ disabled_at: sql`coalesce(disabled_at, now())` })
        .where('id', '=', id)
        .execute();
      await trx
        .updateTable('user_sessions')
        .set({ revoked_at: sql`now()` })
        .where('user_id', '=', id)
        .where('revoked_at', 'is', null)
        .execute();
    });
    return this.get(projectId, id);
  }

  /** The account signing in with `email`, or `undefined` (sign-in then checks a decoy hash anyway). */
  async findForLogin(email: string): Promise<LoginRecord | undefined> {
    const row = await this.#db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
    return row === undefined ? undefined : { user: toUser(row), passwordHash: row.password_hash };
  }

  /**
   * The account an OpenID Connect identity signs in to: the one linked to its issuer and subject; else
   * the account with its email, when the provider verified that email (linked from then on); else a new
   * account with `defaults.role` in `defaults.projectId`. `undefined` when none may be used: no email
   * to make an account with, or an email whose account is linked to another subject.
   */
  async findOrCreateOidcUser(
    identity: OidcIdentity,
    defaults: { projectId: string; role: ProjectRole },
  ): Promise<ConsoleUser | undefined> {
    return this.#db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${advisoryLockKey('ensemble', 'users', 'oidc')}::bigint)`.execute(trx);
      const linked = await trx
        .selectFrom('users')
        .selectAll()
        .where('oidc_issuer', '=', identity.issuer)
        .where('oidc_subject', '=', identity.subject)
        .executeTakeFirst();
      if (linked !== undefined) return toUser(linked);
      if (identity.email === undefined) return undefined;
      const byEmail = await trx.selectFrom('users').selectAll().where('email', '=', identity.email).executeTakeFirst();
      if (byEmail !== undefined) {
        // An unverified email would let anyone who types it at the provider take the account over.
        if (!identity.emailVerified || byEmail.oidc_subject !== null) return undefined;
        const row = await trx
          .updateTable('users')
          .set({ oidc_issuer: identity.issuer, oidc_subject: identity.subject })
          .where('id', '=', byEmail.id)
          .returningAll()
          .executeTakeFirstOrThrow();
        return toUser(row);
      }
      const project = await trx
        .selectFrom('projects')
        .select('id')
        .where('id', '=', defaults.projectId)
        .executeTakeFirst();
      const row = await trx
        .insertInto('users')
        .values({
          id: generateUserId(),
          email: identity.email,
          name: identity.name ?? null,
          password_hash: null,
          oidc_issuer: identity.issuer,
          oidc_subject: identity.subject,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      if (project !== undefined) {
        await trx
          .insertInto('user_memberships')
          .values({ user_id: row.id, project_id: project.id, role: defaults.role })
          .execute();
      }
      return toUser(row);
    });
  }

  async recordLogin(id: string): Promise<void> {
    await this.#db.updateTable('users').set({ last_login_at: sql`now()` }).where('id', '=', id).execute();
  }

  /** The account and every project role, for `GET /api/auth/me`. */
  async describe(id: string): Promise<{ user: ConsoleUser; roles: Array<{ projectId: string; role: ProjectRole }> }> {
    const row = await this.#db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    if (row === undefined) throw notFound('user', id);
    const roles = await this.#db
      .selectFrom('user_memberships')
      .select(['project_id', 'role'])
      .where('user_id', '=', id)
      .orderBy('project_id')
      .execute();
    return { user: toUser(row), roles: roles.map((r) => ({ projectId: r.project_id, role: r.role })) };
  }

  /**
   * The first user, from ENSEMBLE_ADMIN_EMAIL / ENSEMBLE_ADMIN_PASSWORD: a platform admin in `default`,
   * made when no account has that email. An existing account is left as it is (its password may have
   * been changed since). Instances starting together take turns.
   */
  async ensureBootstrapUser(email: string, password: string): Promise<BootstrapUserOutcome> {
    const passwordHash = await hashPassword(password);
    return this.#db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${advisoryLockKey('ensemble', 'users', 'bootstrap')}::bigint)`.execute(
        trx,
      );
      const existing = await trx.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
      if (existing !== undefined) return { kind: 'exists', user: toUser(existing) };
      const row = await trx
        .insertInto('users')
        .values({
          id: generateUserId(),
          email,
          name: null,
          password_hash: passwordHash,
          platform_admin: true,
          oidc_issuer: null,
          oidc_subject: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await trx
        .insertInto('user_memberships')
        .values({ user_id: row.id, project_id: 'default', role: 'owner' })
        .execute();
      return { kind: 'created', user: toUser(row) };
    });
  }
}

export function toUser(row: UserRow): ConsoleUser {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    platformAdmin: row.platform_admin,
    hasPassword: row.password_hash !== null,
    createdAt: row.created_at,
    disabledAt: row.disabled_at,
    lastLoginAt: row.last_login_at,
  };
}

/** PostgreSQL's unique_violation (23505): the email is taken. */
function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '23505';
}

function toMember(row: UserRow, projectId: string, role: ProjectRole): ProjectMember {
  return { ...toUser(row), projectId, role };
}
