import type { FailureCounter, FailureWindow } from '@ensemble/core';
import { type Kysely, sql } from 'kysely';
import type { DatabaseSchema } from './database-schema.ts';

/**
 * Failure windows in `auth_failures` (migration 0050): one upsert per failure, under the row's lock, so
 * concurrent instances count every attempt once. Only failures cost a write.
 */
export class PostgresFailureCounter implements FailureCounter {
  readonly #db: Kysely<DatabaseSchema>;

  constructor(db: Kysely<DatabaseSchema>) {
    this.#db = db;
  }

  async record(scope: string, subject: string, windowMs: number): Promise<FailureWindow> {
    const window = sql`${windowMs} * interval '1 millisecond'`;
    const { rows } = await sql<{ failures: number; reset_at: Date }>`
      insert into auth_failures as f (scope, subject, window_start, failures)
      values (${scope}, ${subject}, clock_timestamp(), 1)
      on conflict (scope, subject) do update set
        window_start = case when f.window_start + ${window} <= clock_timestamp() then clock_timestamp() else f.window_start end,
        failures = case when f.window_start + ${window} <= clock_timestamp() then 1 else f.failures + 1 end
      returning f.failures, f.window_start + ${window} as reset_at`.execute(this.#db);
    const row = rows[0] as { failures: number; reset_at: Date };
    return { failures: row.failures, resetAt: row.reset_at.getTime() };
  }

  async peek(scope: string, subject: string, windowMs: number): Promise<FailureWindow | undefined> {
    const { rows } = await sql<{ failures: number; reset_at: Date }>`
      select failures, window_start + ${windowMs} * interval '1 millisecond' as reset_at from auth_failures
      where scope = ${scope} and subject = ${subject}
        and window_start + ${windowMs} * interval '1 millisecond' > clock_timestamp()`.execute(this.#db);
    const row = rows[0];
    return row === undefined ? undefined : { failures: row.failures, resetAt: row.reset_at.getTime() };
  }

  async clear(scope: string, subject: string): Promise<void> {
    await this.#db.deleteFrom('auth_failures').where('scope', '=', scope).where('subject', '=', subject).execute();
  }
}
