import type { DueWebhook, JobWebhookStore } from '@ensemble/core';
import { type Kysely, sql } from 'kysely';
import type { DatabaseSchema } from './database-schema.ts';
import { type JobRow, toJob } from './job-rows.ts';

/** Completion webhooks in the jobs table (see `JobWebhookStore`). */
export class PostgresJobWebhookStore implements JobWebhookStore {
  readonly #db: Kysely<DatabaseSchema>;

  constructor(db: Kysely<DatabaseSchema>) {
    this.#db = db;
  }

  async claimDue(limit: number, leaseMs: number): Promise<DueWebhook[]> {
    // SKIP LOCKED: workers polling together take different webhooks.
    const { rows } = await sql<JobRow>`
      update jobs set
        webhook_attempts = webhook_attempts + 1,
        webhook_next_at = now() + make_interval(secs => ${leaseMs / 1000})
      where id in (
        select id from jobs
        where webhook_status = 'pending' and webhook_next_at <= now()
        order by webhook_next_at
        limit ${limit}
        for update skip locked
      )
      returning *`.execute(this.#db);
    return rows.map((row) => ({ job: toJob(row), url: row.webhook_url as string, attempt: row.webhook_attempts }));
  }

  async delivered(jobId: string, attempt: number): Promise<void> {
    await this.#db
      .updateTable('jobs')
      .set({
        webhook_status: 'delivered',
        webhook_delivered_at: sql`now()`,
        webhook_next_at: null,
        webhook_last_error: null,
      })
      .where('id', '=', jobId)
      .where('webhook_status', '=', 'pending')
      .where('webhook_attempts', '=', attempt)
      .execute();
  }

  async attemptFailed(jobId: string, attempt: number, error: string, retryAt: Date | null): Promise<void> {
    await this.#db
      .updateTable('jobs')
      .set({
        webhook_status: retryAt === null ? 'failed' : 'pending',
        webhook_next_at: retryAt,
        webhook_last_error: error.slice(0, 1_000),
      })
      .where('id', '=', jobId)
      .where('webhook_status', '=', 'pending')
      .where('webhook_attempts', '=', attempt)
      .execute();
  }
}
