import {
  type ApiKey,
  type ApiKeyStore,
  type Authentication,
  authenticationFailed,
  type CreatedApiKey,
  EnsembleError,
  type Logger,
  type NewApiKey,
  notFound,
  type Page,
  type Principal,
  roleOfNewKey,
  secretPrefixOf,
  silentLogger,
  validationError,
} from '@ensemble/core';
import { type Kysely, type Selectable, sql } from 'kysely';
import { generateApiKeyId, generateApiKeySecret, hashApiKeySecret } from '../auth/api-key-secret.ts';
import { VerifiedKeyCache } from '../auth/verified-key-cache.ts';
import { advisoryLockKey } from './advisory-lock-key.ts';
import type { ApiKeysTable, DatabaseSchema } from './database-schema.ts';

type Db = Kysely<DatabaseSchema>;
type ApiKeyRow = Selectable<ApiKeysTable>;

export interface PostgresApiKeyStoreOptions {
  /** How long a verified key is trusted from memory (API_KEY_CACHE_TTL_MS); 5 s by default. */
  cacheTtlMs?: number;
  /** Distinct secrets remembered at once; 10,000 by default. */
  cacheMaxEntries?: number;
  /** How often `last_used_at` is written, in one statement for every key used since; 30 s by default. */
  lastUsedFlushMs?: number;
  logger?: Logger;
  now?: () => number;
}

/** What `ensureBootstrapKey` found or did, for the composition root to report. */
export type BootstrapOutcome =
  /** No bootstrap key had ever existed: one was generated; this is the only time its secret is known. */
  | { kind: 'generated'; key: ApiKey; secret: string }
  /** The chosen key (ENSEMBLE_ADMIN_KEY) was stored; `replaced` is the previous bootstrap key, now revoked. */
  | { kind: 'configured'; key: ApiKey; replaced: ApiKey | undefined }
  /** The live bootstrap key is already the chosen one, or none was chosen and one exists. */
  | { kind: 'unchanged'; key: ApiKey }
  /** The chosen key was revoked through the API; it stays revoked. */
  | { kind: 'revoked'; key: ApiKey }
  /** None chosen and the bootstrap key was revoked: no new one is generated (that would undo the revocation). */
  | { kind: 'none'; revoked: ApiKey };

const bootstrapProject = 'default';

/**
 * API keys in PostgreSQL, stored as SHA-256 hashes. `authenticate` answers repeat keys from a
 * bounded, short-lived cache and records use in memory; `last_used_at` is written in batches by a
 * timer, so the request path never waits for the database once a key is warm.
 */
export class PostgresApiKeyStore implements ApiKeyStore {
  readonly #db: Db;
  readonly #cache: VerifiedKeyCache;
  readonly #now: () => number;
  readonly #logger: Logger;
  /** Lookups in progress by secret hash, so a burst with a cold key asks the database once. */
  readonly #pending = new Map<string, Promise<Authentication>>();
  /** Keys used since the last flush, and when (epoch ms). */
  #used = new Map<string, number>();
  readonly #flushTimer: NodeJS.Timeout;
  #flushing: Promise<void> | undefined;

  constructor(db: Db, options: PostgresApiKeyStoreOptions = {}) {
    this.#db = db;
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger ?? silentLogger;
    this.#cache = new VerifiedKeyCache({
      ttlMs: options.cacheTtlMs ?? 5_000,
      maxEntries: options.cacheMaxEntries ?? 10_000,
      now: this.#now,
    });
    this.#flushTimer = setInterval(() => void this.flushLastUsed(), options.lastUsedFlushMs ?? 30_000);
    this.#flushTimer.unref();
  }

  authenticate(secret: string): Promise<Authentication> {
    const secretHash = hashApiKeySecret(secret);
    const cached = this.#cache.get(secretHash);
    if (cached === undefined) return this.#lookup(secretHash);
    if ('principal' in cached) this.#markUsed(cached.principal);
    return Promise.resolve(cached);
  }

  #lookup(secretHash: string): Promise<Authentication> {
    const pending = this.#pending.get(secretHash);
    if (pending !== undefined) return pending;
    const generation = this.#cache.generation;
    const lookup = this.#db
      .selectFrom('api_keys')
      .select([
        'id',
        'project_id',
        'admin',
        'role',
        'allowed_ips',
        'allowed_models',
        'tags',
        'expires_at',
        'revoked_at',
      ])
      .where('secret_sha256', '=', Buffer.from(secretHash, 'hex'))
      .executeTakeFirst()
      .then((row) => {
        const answer = this.#answerFor(row);
        this.#cache.set(secretHash, answer, generation, row?.expires_at);
        if ('principal' in answer) this.#markUsed(answer.principal);
        return answer;
      })
      .finally(() => this.#pending.delete(secretHash));
    this.#pending.set(secretHash, lookup);
    return lookup;
  }

  #answerFor(
    row:
      | Pick<
          ApiKeyRow,
          | 'id'
          | 'project_id'
          | 'admin'
          | 'role'
          | 'allowed_ips'
          | 'allowed_models'
          | 'tags'
          | 'expires_at'
          | 'revoked_at'
        >
      | undefined,
  ): Authentication {
    if (row === undefined) return authenticationFailed.unknown;
    if (row.revoked_at !== null) return authenticationFailed.revoked;
    if (row.expires_at !== null && row.expires_at.getTime() <= this.#now()) return authenticationFailed.expired;
    const principal: Principal = Object.freeze({
      keyId: row.id,
      projectId: row.project_id,
      admin: row.admin,
      role: row.role,
      tags: Object.freeze([...row.tags]),
      ...(row.allowed_models === null ? {} : { allowedModels: Object.freeze([...row.allowed_models]) }),
      ...(row.allowed_ips === null ? {} : { allowedIps: Object.freeze([...row.allowed_ips]) }),
    });
    return Object.freeze({ principal });
  }

  #markUsed(principal: Principal): void {
    if (principal.keyId !== null) this.#used.set(principal.keyId, this.#now());
  }

  /** Writes `last_used_at` for every key used since the last flush; failures are retried next time. */
  flushLastUsed(): Promise<void> {
    this.#flushing ??= this.#flush().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  async #flush(): Promise<void> {
    if (this.#used.size === 0) return;
    const batch = this.#used;
    this.#used = new Map();
    const ids = [...batch.keys()];
    const times = ids.map((id) => new Date(batch.get(id) as number).toISOString());
    try {
      await sql`
        update api_keys as k set last_used_at = v.at
        from unnest(${ids}::text[], ${times}::timestamptz[]) as v(id, at)
        where k.id = v.id and (k.last_used_at is null or k.last_used_at < v.at)`.execute(this.#db);
    } catch (error) {
      // Merged back (newer uses win), so nothing is lost while the database is away.
      for (const [id, at] of batch) if ((this.#used.get(id) ?? 0) < at) this.#used.set(id, at);
      this.#logger.warn({ err: error, keys: ids.length }, 'could not record when API keys were last used; will retry');
    }
  }

  async create(projectId: string, key: NewApiKey): Promise<CreatedApiKey> {
    if (key.expiresAt !== undefined && key.expiresAt.getTime() <= this.#now()) {
      throw validationError('expiresAt', 'must be in the future');
    }
    const secret = generateApiKeySecret();
    const row = await this.#db.transaction().execute(async (trx) => {
      const project = await trx.selectFrom('projects').select('id').where('id', '=', projectId).executeTakeFirst();
      if (project === undefined) throw notFound('project', projectId);
      return trx
        .insertInto('api_keys')
        .values({
          id: generateApiKeyId(),
          project_id: projectId,
          name: key.name,
          secret_sha256: Buffer.from(hashApiKeySecret(secret), 'hex'),
          prefix: secretPrefixOf(secret),
          admin: key.admin,
          role: roleOfNewKey(key),
          allowed_ips: key.allowedIps === undefined ? null : [...key.allowedIps],
          allowed_models: key.allowedModels === undefined ? null : [...key.allowedModels],
          tags: [...key.tags],
          expires_at: key.expiresAt ?? null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
    });
    return { key: toApiKey(row), secret };
  }

  async list(projectId: string, options: { limit: number; after?: string }): Promise<Page<ApiKey>> {
    let query = this.#db
      .selectFrom('api_keys')
      .selectAll()
      .where('project_id', '=', projectId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(options.limit + 1);
    if (options.after !== undefined) {
      if (!/^key_[A-Za-z0-9]{16}$/.test(options.after)) {
        throw validationError(
          'querystring.after',
          'is not a cursor from a previous page (pass nextCursor back unchanged)',
        );
      }
      // The cursor is the last key's id; its row gives the exact position (timestamps keep microseconds).
      const after = options.after;
      query = query.where(sql<boolean>`(created_at, id) < (select created_at, id from api_keys where id = ${after})`);
    }
    const rows = await query.execute();
    const items = rows.slice(0, options.limit).map(toApiKey);
    const last = items.at(-1);
    return rows.length > options.limit && last ? { items, nextCursor: last.id } : { items };
  }

  async get(projectId: string, id: string): Promise<ApiKey> {
    const row = await this.#db
      .selectFrom('api_keys')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (row === undefined) throw notFound('API key', id);
    return toApiKey(row);
  }

  async revoke(projectId: string, id: string): Promise<ApiKey> {
    const row = await this.#db
      .updateTable('api_keys')
      .set({ revoked_at: sql`coalesce(revoked_at, now())` })
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    if (row === undefined) throw notFound('API key', id);
    this.#cache.evictKey(id);
    return toApiKey(row);
  }

  /**
   * Makes sure an admin key exists to start with: stores the chosen one (ENSEMBLE_ADMIN_KEY), revoking
   * the bootstrap key it replaces, or generates one if there never was any. Instances starting
   * together take turns (an advisory lock), so exactly one generates.
   */
  async ensureBootstrapKey(chosenSecret?: string): Promise<BootstrapOutcome> {
    const outcome = await this.#db.transaction().execute(async (trx): Promise<BootstrapOutcome> => {
      await sql`select pg_advisory_xact_lock(${advisoryLockKey('ensemble', 'api-keys', 'bootstrap')}::bigint)`.execute(
        trx,
      );
      const live = await trx
        .selectFrom('api_keys')
        .selectAll()
        .where('bootstrap', '=', true)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      const insert = (secret: string, name: string) =>
        trx
          .insertInto('api_keys')
          .values({
            id: generateApiKeyId(),
            project_id: bootstrapProject,
            name,
            secret_sha256: Buffer.from(hashApiKeySecret(secret), 'hex'),
            prefix: secretPrefixOf(secret),
            admin: true,
            role: 'owner',
            bootstrap: true,
          })
          .returningAll()
          .executeTakeFirstOrThrow();

      if (chosenSecret !== undefined) {
        const existing = await trx
          .selectFrom('api_keys')
          .selectAll()
          .where('secret_sha256', '=', Buffer.from(hashApiKeySecret(chosenSecret), 'hex'))
          .executeTakeFirst();
        if (existing !== undefined) {
          if (existing.revoked_at !== null) return { kind: 'revoked', key: toApiKey(existing) };
          if (existing.bootstrap) return { kind: 'unchanged', key: toApiKey(existing) };
          throw new EnsembleError(
            'config_invalid',
            `ENSEMBLE_ADMIN_KEY is already the secret of API key ${existing.id}. Fix: choose a new random value.`,
            { field: 'ENSEMBLE_ADMIN_KEY' },
          );
        }
        let replaced: ApiKey | undefined;
        if (live !== undefined) {
          const row = await trx
            .updateTable('api_keys')
            .set({ revoked_at: sql`now()` })
            .where('id', '=', live.id)
            .returningAll()
            .executeTakeFirstOrThrow();
          replaced = toApiKey(row);
        }
        const key = toApiKey(await insert(chosenSecret, 'bootstrap admin (ENSEMBLE_ADMIN_KEY)'));
        return { kind: 'configured', key, replaced };
      }

      if (live !== undefined) return { kind: 'unchanged', key: toApiKey(live) };
      const former = await trx
        .selectFrom('api_keys')
        .selectAll()
        .where('bootstrap', '=', true)
        .orderBy('revoked_at', 'desc')
        .executeTakeFirst();
      if (former !== undefined) return { kind: 'none', revoked: toApiKey(former) };
      const secret = generateApiKeySecret();
      return { kind: 'generated', key: toApiKey(await insert(secret, 'bootstrap admin (generated)')), secret };
    });
    if (outcome.kind === 'configured' && outcome.replaced !== undefined) this.#cache.evictKey(outcome.replaced.id);
    return outcome;
  }

  /** Stops the flush timer and writes the last uses. */
  async close(): Promise<void> {
    clearInterval(this.#flushTimer);
    await this.flushLastUsed();
  }
}

function toApiKey(row: ApiKeyRow): ApiKey {
  return {
    id: row.id,
    name: row.name,
    projectId: row.project_id,
    prefix: row.prefix,
    admin: row.admin,
    role: row.role,
    allowedIps: row.allowed_ips,
    allowedModels: row.allowed_models,
    tags: row.tags,
    bootstrap: row.bootstrap,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}
