import {
  finishedStatus,
  type Job,
  type JobEventType,
  type JobItemInput,
  type JobItemResult,
  type JobStatus,
  type JobTopics,
  type JobWorkStore,
  jobItemFailedRecord,
  type RecordedResults,
} from '@ensemble/core';
import { type Kysely, sql } from 'kysely';
import { appendJobEvents } from './append-job-events.ts';
import { appendToOutbox } from './append-to-outbox.ts';
import type { DatabaseSchema } from './database-schema.ts';
import { toJob } from './job-rows.ts';

type Db = Kysely<DatabaseSchema>;

interface ResultRow {
  i: number;
  s: string;
  o: unknown;
  e: unknown;
  a: number;
  it: number;
  ot: number;
  c: number | null;
  sa: string;
  fa: string;
}

/** Jobs for the workers, in PostgreSQL (see `JobWorkStore`). */
export class PostgresJobWorkStore implements JobWorkStore {
  readonly #db: Db;
  readonly #topics: JobTopics;

  constructor(db: Db, topics: JobTopics) {
    this.#db = db;
    this.#topics = topics;
  }

  startJob(jobId: string): Promise<Job | undefined> {
    return this.#db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('jobs').selectAll().where('id', '=', jobId).forUpdate().executeTakeFirst();
      if (row === undefined) return undefined;
      if (row.status !== 'queued') return toJob(row);
      const updated = await trx
        .updateTable('jobs')
        .set({ status: 'running', started_at: sql`now()`, updated_at: sql`now()` })
        .where('id', '=', jobId)
        .returningAll()
        .executeTakeFirstOrThrow();
      const job = toJob(updated);
      await appendJobEvents(trx, this.#topics, job, ['jobs/job.started']);
      return job;
    });
  }

  async markPlanned(jobId: string, plannedItems: number): Promise<void> {
    await this.#db
      .updateTable('jobs')
      .set({ planned_items: sql`greatest(planned_items, ${plannedItems})` })
      .where('id', '=', jobId)
      .execute();
  }

  async plannedItems(jobId: string): Promise<number> {
    const row = await this.#db.selectFrom('jobs').select('planned_items').where('id', '=', jobId).executeTakeFirst();
    return row?.planned_items ?? 0;
  }

  async unfinishedItems(jobId: string, afterIndex: number, limit: number): Promise<number[]> {
    const rows = await this.#db
      .selectFrom('job_items as i')
      .select('i.item_index')
      .where('i.job_id', '=', jobId)
      .where('i.item_index', '>', afterIndex)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('job_results as r')
              .select(sql`1`.as('one'))
              .whereRef('r.job_id', '=', 'i.job_id')
              .whereRef('r.item_index', '=', 'i.item_index'),
          ),
        ),
      )
      .orderBy('i.item_index')
      .limit(limit)
      .execute();
    return rows.map((row) => row.item_index);
  }

  async jobs(jobIds: readonly string[]): Promise<Map<string, Job>> {
    if (jobIds.length === 0) return new Map();
    const rows = await this.#db
      .selectFrom('jobs')
      .selectAll()
      .where('id', 'in', [...jobIds])
      .execute();
    return new Map(rows.map((row) => [row.id, toJob(row)]));
  }

  async status(jobId: string): Promise<JobStatus | undefined> {
    const row = await this.#db.selectFrom('jobs').select('status').where('id', '=', jobId).executeTakeFirst();
    return row?.status as JobStatus | undefined;
  }

  async pendingInputs(jobId: string, indexes: readonly number[]): Promise<Map<number, JobItemInput>> {
    if (indexes.length === 0) return new Map();
    const rows = await this.#db
      .selectFrom('job_items as i')
      .leftJoin('job_results as r', (join) =>
        join.onRef('r.job_id', '=', 'i.job_id').onRef('r.item_index', '=', 'i.item_index'),
      )
      .select(['i.item_index', 'i.custom_id', 'i.input'])
      .where('i.job_id', '=', jobId)
      .where('i.item_index', 'in', [...indexes])
      .where('r.item_index', 'is', null)
      .execute();
    return new Map(rows.map((row) => [row.item_index, { customId: row.custom_id, body: row.input }]));
  }

  recordResults(jobId: string, results: readonly JobItemResult[]): Promise<RecordedResults> {
    return this.#db.transaction().execute(async (trx) => {
      // The job's row lock orders this write with the others of the job (and with cancel and retry).
      const before = await trx
        .selectFrom('jobs')
        .selectAll()
        .where('id', '=', jobId)
        .forUpdate()
        .executeTakeFirstOrThrow();
      if (results.length === 0) return { job: toJob(before), written: 0 };
      const rows: ResultRow[] = results.map((result) => ({
        i: result.index,
        s: result.status,
        o: result.status === 'succeeded' ? result.output : null,
        e: result.error,
        a: result.attempts,
        it: result.inputTokens,
        ot: result.outputTokens,
        c: result.costUsd,
        sa: result.startedAt.toISOString(),
        fa: result.finishedAt.toISOString(),
      }));
      // One statement for the batch; a result that exists already is left as it is.
      const { rows: written } = await sql<{
        item_index: number;
        status: string;
        input_tokens: number;
        output_tokens: number;
        cost_usd: string | null;
      }>`
        insert into job_results
          (job_id, item_index, status, output, error, attempts, input_tokens, output_tokens, cost_usd, started_at, finished_at)
        select ${jobId}, r.i, r.s, r.o, r.e, r.a, r.it, r.ot, r.c, r.sa, r.fa
        from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
          as r(i integer, s text, o jsonb, e jsonb, a integer, it integer, ot integer, c numeric, sa timestamptz, fa timestamptz)
        on conflict (job_id, item_index) do nothing
        returning item_index, status, input_tokens, output_tokens, cost_usd`.execute(trx);
      if (written.length === 0) return { job: toJob(before), written: 0 };

      let succeeded = 0;
      let failed = 0;
      let inputTokens = 0;
      let outputTokens = 0;
      let cost: number | null = null;
      for (const row of written) {
        if (row.status === 'succeeded') succeeded++;
        else failed++;
        inputTokens += row.input_tokens;
        outputTokens += row.output_tokens;
        if (row.cost_usd !== null) cost = (cost ?? 0) + Number(row.cost_usd);
      }
      const done = before.succeeded_items + succeeded + before.failed_items + failed >= before.total_items;
      const finishes = done && before.status === 'running';
      const updated = await trx
        .updateTable('jobs')
        .set({
          succeeded_items: sql`succeeded_items + ${succeeded}`,
          failed_items: sql`failed_items + ${failed}`,
          input_tokens: sql`input_tokens + ${inputTokens}`,
          output_tokens: sql`output_tokens + ${outputTokens}`,
          ...(cost === null ? {} : { cost_usd: sql`coalesce(cost_usd, 0) + ${cost}::numeric` }),
          updated_at: sql`now()`,
          ...(finishes
            ? {
                status: finishedStatus(before.failed_items + failed),
                finished_at: sql`now()`,
                webhook_status: sql`case when webhook_url is null then null else 'pending' end`,
                webhook_next_at: sql`case when webhook_url is null then null else now() end`,
              }
            : {}),
        })
        .where('id', '=', jobId)
        .returningAll()
        .executeTakeFirstOrThrow();
      const job = toJob(updated);
      const events: JobEventType[] = finishes ? ['jobs/job.progressed', 'jobs/job.completed'] : ['jobs/job.progressed'];
      await appendJobEvents(trx, this.#topics, job, events);
      const failures = written.filter((row) => row.status === 'failed');
      if (failures.length > 0) {
        const byIndex = new Map(results.map((result) => [result.index, result]));
        const customIds = await trx
          .selectFrom('job_items')
          .select(['item_index', 'custom_id'])
          .where('job_id', '=', jobId)
          .where(
            'item_index',
            'in',
            failures.map((row) => row.item_index),
          )
          .execute();
        await appendToOutbox(
          trx,
          customIds.map((row) => {
            const result = byIndex.get(row.item_index) as JobItemResult;
            return jobItemFailedRecord(this.#topics, job.projectId, {
              jobId,
              index: row.item_index,
              customId: row.custom_id,
              round: job.round,
              attempts: result.attempts,
              error: result.error ?? { code: 'internal_error', message: 'failed without an error', retryable: false },
            });
          }),
        );
      }
      return { job, written: written.length };
    });
  }

  reportItemProgress(jobId: string, index: number, progress: { done: number; total: number }): Promise<void> {
    return this.#db.transaction().execute(async (trx) => {
      // The job's row lock orders the reports of its items (and their sums) with each other.
      const running = await trx
        .selectFrom('jobs')
        .select('id')
        .where('id', '=', jobId)
        .where('status', '=', 'running')
        .forUpdate()
        .executeTakeFirst();
      if (running === undefined) return;
      const total = Math.max(0, progress.total);
      const done = Math.min(Math.max(0, progress.done), total);
      await sql`
        insert into job_item_progress (job_id, item_index, done, total) values (${jobId}, ${index}, ${done}, ${total})
        on conflict (job_id, item_index) do update set total = excluded.total,
          done = least(greatest(job_item_progress.done, excluded.done), excluded.total)`.execute(trx);
      const updated = await this.#sumProgress(trx, jobId);
      if (updated !== undefined) await appendJobEvents(trx, this.#topics, updated, ['jobs/job.progressed']);
    });
  }

  clearItemProgress(jobId: string, index: number): Promise<void> {
    return this.#db.transaction().execute(async (trx) => {
      const job = await trx.selectFrom('jobs').select('status').where('id', '=', jobId).forUpdate().executeTakeFirst();
      if (job === undefined) return;
      await sql`update job_item_progress set done = 0 where job_id = ${jobId} and item_index = ${index}`.execute(trx);
      const updated = await this.#sumProgress(trx, jobId);
      if (updated !== undefined && updated.status === 'running') {
        await appendJobEvents(trx, this.#topics, updated, ['jobs/job.progressed']);
      }
    });
  }

  /** The job's progress as the sums over its items. */
  async #sumProgress(trx: Db, jobId: string): Promise<Job | undefined> {
    const updated = await trx
      .updateTable('jobs')
      .set({
        progress_done: sql`(select coalesce(sum(done), 0)::integer from job_item_progress where job_id = ${jobId})`,
        progress_total: sql`(select coalesce(sum(total), 0)::integer from job_item_progress where job_id = ${jobId})`,
        updated_at: sql`now()`,
      })
      .where('id', '=', jobId)
      .returningAll()
      .executeTakeFirst();
    return updated === undefined ? undefined : toJob(updated);
  }
}
