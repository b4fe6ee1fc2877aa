import {
  type LimitSettings,
  type LimitStore,
  limitSettingsSchema,
  notFound,
  type SharedBuckets,
  type SpendSource,
  type StoredLimit,
} from '@ensemble/core';
import { type Kysely, sql } from 'kysely';
import type { DatabaseSchema } from './database-schema.ts';

type Db = Kysely<DatabaseSchema>;

/** Limits per project and per key, in `limits` (migration 0032). Every query is scoped by project. */
export class PostgresLimitStore implements LimitStore {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async list(projectId: string): Promise<StoredLimit[]> {
    const rows = await this.#db
      .selectFrom('limits')
      .selectAll()
      .where('project_id', '=', projectId)
      .orderBy(sql`key_id nulls first`)
      .execute();
    return rows.map(toStoredLimit);
  }

  async effective(projectId: string, keyId: string | null): Promise<{ project?: LimitSettings; key?: LimitSettings }> {
    const rows = await this.#db
      .selectFrom('limits')
      .select(['key_id', 'settings'])
      .where('project_id', '=', projectId)
      .where((where) =>
        keyId === null
          ? where('key_id', 'is', null)
          : where.or([where('key_id', 'is', null), where('key_id', '=', keyId)]),
      )
      .execute();
    const answer: { project?: LimitSettings; key?: LimitSettings } = {};
    for (const row of rows) {
      const settings = limitSettingsSchema.parse(row.settings);
      if (row.key_id === null) answer.project = settings;
      else answer.key = settings;
    }
    return answer;
  }

  async put(
    projectId: string,
    keyId: string | null,
    settings: LimitSettings,
  ): Promise<{ previous: StoredLimit | undefined; current: StoredLimit }> {
    return this.#db.transaction().execute(async (trx) => {
      if (keyId !== null) {
        const key = await trx
          .selectFrom('api_keys')
          .select('id')
          .where('project_id', '=', projectId)
          .where('id', '=', keyId)
          .executeTakeFirst();
        if (key === undefined) throw notFound('API key', keyId);
      }
      const before = await trx
        .deleteFrom('limits')
        .where('project_id', '=', projectId)
        .where((where) => (keyId === null ? where('key_id', 'is', null) : where('key_id', '=', keyId)))
        .returningAll()
        .executeTakeFirst();
      const row = await trx
        .insertInto('limits')
        .values({ project_id: projectId, key_id: keyId, settings: JSON.stringify(settings) })
        .returningAll()
        .executeTakeFirstOrThrow();
      return { previous: before === undefined ? undefined : toStoredLimit(before), current: toStoredLimit(row) };
    });
  }

  async remove(projectId: string, keyId: string | null): Promise<StoredLimit> {
    const row = await this.#db
      .deleteFrom('limits')
      .where('project_id', '=', projectId)
      .where((where) => (keyId === null ? where('key_id', 'is', null) : where('key_id', '=', keyId)))
      .returningAll()
      .executeTakeFirst();
    if (row === undefined) throw notFound('limit', keyId ?? projectId);
    return toStoredLimit(row);
  }
}

function toStoredLimit(row: {
  project_id: string;
  key_id: string | null;
  settings: unknown;
  updated_at: Date;
}): StoredLimit {
  return {
    projectId: row.project_id,
    keyId: row.key_id,
    settings: limitSettingsSchema.parse(row.settings),
    updatedAt: row.updated_at,
  };
}

/** Token buckets in `rate_buckets`, through the functions of migration 0032 (one round trip each). */
export class PostgresSharedBuckets implements SharedBuckets {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async take(
    bucket: string,
    capacity: number,
    perSecond: number,
    want: number,
  ): Promise<{ granted: number; left: number }> {
    const { rows } = await sql<{ granted: number; remaining: number }>`
      select granted, remaining from rate_bucket_take(${bucket}, ${capacity}, ${perSecond}, ${want})`.execute(this.#db);
    const row = rows[0] as { granted: number; remaining: number };
    return { granted: row.granted, left: row.remaining };
  }

  async give(bucket: string, capacity: number, perSecond: number, amount: number): Promise<void> {
    await sql`select rate_bucket_give(${bucket}, ${capacity}, ${perSecond}, ${amount})`.execute(this.#db);
  }
}

/** Spend from the usage ledger (`usage_records.cost_usd`), per project or per key. */
export class PostgresSpendSource implements SpendSource {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async spent(projectId: string, keyId: string | null, since: Date): Promise<number> {
    let query = this.#db
      .selectFrom('usage_records')
      .select(sql<string | null>`sum(cost_usd)`.as('spent'))
      .where('project_id', '=', projectId)
      .where('ts', '>=', since);
    if (keyId !== null) query = query.where('key_id', '=', keyId);
    const row = await query.executeTakeFirst();
    return Number(row?.spent ?? 0);
  }
}

/** Claims the one warning of a budget period: true for the first instance to ask, false after. */
export async function claimBudgetWarning(
  db: Db,
  projectId: string,
  scope: string,
  periodStart: Date,
): Promise<boolean> {
  const inserted = await db
    .insertInto('budget_warnings')
    .values({ project_id: projectId, scope, period_start: periodStart })
    .onConflict((conflict) => conflict.doNothing())
    .returning('scope')
    .executeTakeFirst();
  return inserted !== undefined;
}
