import {
  type CredentialPutOutcome,
  type CredentialRepository,
  type CredentialSummary,
  conflict,
  maskSecret,
  type NewCredential,
  notFound,
  type Page,
} from '@ensemble/core';
import { type Kysely, type Selectable, sql } from 'kysely';
import type { CredentialCipher, SealedSecret } from './credential-cipher.ts';
import type { CredentialsTable, DatabaseSchema } from './database-schema.ts';
import { decodeNameCursor, encodeNameCursor } from './name-cursor.ts';

type Db = Kysely<DatabaseSchema>;
type CredentialRow = Selectable<CredentialsTable>;

/** Summaries never select the ciphertext, so no code path can send it by accident. */
const summaryColumns = ['project_id', 'name', 'provider', 'hint', 'key_id', 'created_at', 'updated_at'] as const;

/** Credentials in PostgreSQL, encrypted by `CredentialCipher` before they reach the database. */
export class PostgresCredentialRepository implements CredentialRepository {
  readonly #db: Db;
  readonly #cipher: CredentialCipher;

  constructor(db: Db, cipher: CredentialCipher) {
    this.#db = db;
    this.#cipher = cipher;
  }

  async list(options: { limit: number; after?: string; projectId?: string }): Promise<Page<CredentialSummary>> {
    let query = this.#db
      .selectFrom('credentials')
      .select(summaryColumns)
      .orderBy('project_id')
      .orderBy('name')
      .limit(options.limit + 1);
    if (options.projectId !== undefined) query = query.where('project_id', '=', options.projectId);
    if (options.after !== undefined) {
      const cursor = decodeNameCursor(options.after);
      query = query.where((eb) => eb(eb.refTuple('project_id', 'name'), '>', eb.tuple(cursor.projectId, cursor.name)));
    }
    const rows = await query.execute();
    const items = rows.slice(0, options.limit).map(toSummary);
    const last = items.at(-1);
    return rows.length > options.limit && last
      ? { items, nextCursor: encodeNameCursor({ projectId: last.projectId, name: last.name }) }
      : { items };
  }

  async get(projectId: string, name: string): Promise<CredentialSummary> {
    const row = await this.#db
      .selectFrom('credentials')
      .select(summaryColumns)
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .executeTakeFirst();
    if (row === undefined) throw notFound('credential', name);
    return toSummary(row);
  }

  async create(credential: NewCredential): Promise<CredentialSummary> {
    return this.#db.transaction().execute(async (trx) => {
      await requireProject(trx, credential.projectId);
      const row = await trx
        .insertInto('credentials')
        .values(this.#sealedRow(credential))
        .onConflict((oc) => oc.columns(['project_id', 'name']).doNothing())
        .returning(summaryColumns)
        .executeTakeFirst();
      if (row === undefined) throw conflict('credential', credential.name);
      return toSummary(row);
    });
  }

  async put(credential: NewCredential): Promise<{ credential: CredentialSummary; outcome: CredentialPutOutcome }> {
    return this.#db.transaction().execute(async (trx) => {
      await requireProject(trx, credential.projectId);
      const existing = await trx
        .selectFrom('credentials')
        .selectAll()
        .where('project_id', '=', credential.projectId)
        .where('name', '=', credential.name)
        .forUpdate()
        .executeTakeFirst();
      if (existing === undefined) {
        const row = await trx
          .insertInto('credentials')
          .values(this.#sealedRow(credential))
          .returning(summaryColumns)
          .executeTakeFirstOrThrow();
        return { credential: toSummary(row), outcome: 'created' as const };
      }
      const same =
        existing.provider === credential.provider &&
        existing.key_id === this.#cipher.currentKeyId &&
        this.#holds(existing, credential.secret);
      if (same) return { credential: toSummary(existing), outcome: 'unchanged' as const };
      const { project_id: _p, name: _n, ...sealed } = this.#sealedRow(credential);
      const row = await trx
        .updateTable('credentials')
        .set({ ...sealed, updated_at: sql`now()` })
        .where('project_id', '=', credential.projectId)
        .where('name', '=', credential.name)
        .returning(summaryColumns)
        .executeTakeFirstOrThrow();
      return { credential: toSummary(row), outcome: 'updated' as const };
    });
  }

  async delete(projectId: string, name: string): Promise<void> {
    const deleted = await this.#db
      .deleteFrom('credentials')
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .returning('name')
      .executeTakeFirst();
    if (deleted === undefined) throw notFound('credential', name);
  }

  async reveal(projectId: string, name: string): Promise<string> {
    const row = await this.#db
      .selectFrom('credentials')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .executeTakeFirst();
    if (row === undefined) throw notFound('credential', name);
    return this.#cipher.decrypt(sealedOf(row), additionalData(projectId, name));
  }

  async rotate(): Promise<{ rotated: number; total: number }> {
    // One transaction: either every credential ends under the current key, or none changed.
    return this.#db.transaction().execute(async (trx) => {
      const total = await trx
        .selectFrom('credentials')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .executeTakeFirstOrThrow();
      const stale = await trx
        .selectFrom('credentials')
        .selectAll()
        .where('key_id', '<>', this.#cipher.currentKeyId)
        .forUpdate()
        .execute();
      for (const row of stale) {
        const aad = additionalData(row.project_id, row.name);
        const sealed = this.#cipher.encrypt(this.#cipher.decrypt(sealedOf(row), aad), aad);
        await trx
          .updateTable('credentials')
          .set({
            ciphertext: sealed.ciphertext,
            iv: sealed.iv,
            auth_tag: sealed.authTag,
            key_id: sealed.keyId,
            updated_at: sql`now()`,
          })
          .where('project_id', '=', row.project_id)
          .where('name', '=', row.name)
          .execute();
      }
      return { rotated: stale.length, total: Number(total.count) };
    });
  }

  /** Whether a row already seals this secret; one that no longer decrypts is simply replaced. */
  #holds(row: CredentialRow, secret: string): boolean {
    try {
      return this.#cipher.decrypt(sealedOf(row), additionalData(row.project_id, row.name)) === secret;
    } catch {
      return false;
    }
  }

  #sealedRow(credential: NewCredential) {
    const sealed = this.#cipher.encrypt(credential.secret, additionalData(credential.projectId, credential.name));
    return {
      project_id: credential.projectId,
      name: credential.name,
      provider: credential.provider,
      ciphertext: sealed.ciphertext,
      iv: sealed.iv,
      auth_tag: sealed.authTag,
      key_id: sealed.keyId,
      hint: maskSecret(credential.secret),
    };
  }
}

/** Binds a ciphertext to its row, so it cannot be moved to another credential. */
function additionalData(projectId: string, name: string): string {
  return `${projectId}/${name}`;
}

async function requireProject(trx: Db, projectId: string): Promise<void> {
  const project = await trx.selectFrom('projects').select('id').where('id', '=', projectId).executeTakeFirst();
  if (project === undefined) throw notFound('project', projectId);
}

function sealedOf(row: CredentialRow): SealedSecret {
  return { ciphertext: row.ciphertext, iv: row.iv, authTag: row.auth_tag, keyId: row.key_id };
}

function toSummary(row: Pick<CredentialRow, (typeof summaryColumns)[number]>): CredentialSummary {
  return {
    projectId: row.project_id,
    name: row.name,
    provider: row.provider,
    hint: row.hint,
    keyId: row.key_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
