import {
  EnsembleError,
  type Job,
  type JobEvent,
  type JobEventType,
  type JobItemInput,
  type JobListOptions,
  type JobRepository,
  type JobResultsOptions,
  type JobTopics,
  jobIdPattern,
  jobRequestedEventType,
  jobRequestRecord,
  jobRetryRequestedEventType,
  type NewJob,
  newJobId,
  notFound,
  type Page,
  type StoredJobItemResult,
  type SubmittedJob,
  validationError,
} from '@ensemble/core';
import { type Kysely, sql } from 'kysely';
import { appendJobEvents } from './append-job-events.ts';
import { appendToOutbox } from './append-to-outbox.ts';
import type { DatabaseSchema } from './database-schema.ts';
import { type JobRow, roundCost, toJob } from './job-rows.ts';

type Db = Kysely<DatabaseSchema>;

/** Jobs for the API, in PostgreSQL (see `JobRepository`). */
export class PostgresJobRepository implements JobRepository {
  readonly #db: Db;
  readonly #topics: JobTopics;

  constructor(db: Db, topics: JobTopics) {
    this.#db = db;
    this.#topics = topics;
  }

  submit(job: NewJob, items: AsyncIterable<readonly JobItemInput[]>): Promise<SubmittedJob> {
    return this.#db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('jobs')
        .values({
          id: newJobId(),
          project_id: job.projectId,
          type: job.type,
          status: 'queued',
          model: job.model,
          target_name: job.target.name,
          target_version: job.target.version,
          target_kind: job.target.kind,
          target_type: job.target.type,
          priority: job.priority,
          item_timeout_ms: job.itemTimeoutMs,
          retry: JSON.stringify(job.retry),
          metadata: JSON.stringify(job.metadata),
          idempotency_key: job.idempotencyKey,
          request_sha256: job.requestSha256,
          source: job.source,
          source_details: job.sourceDetails === null ? null : JSON.stringify(job.sourceDetails),
          total_items: 0,
          // Ingestion jobs count chunks as their documents are parsed.
          ...(job.source === 'ingest' ? { progress_done: 0, progress_total: 0 } : {}),
          created_by: job.createdBy,
          webhook_url: job.webhook?.url ?? null,
        })
        // ON CONFLICT rather than catching 23505, which would abort the transaction.
        .onConflict((oc) =>
          oc.columns(['project_id', 'idempotency_key']).where('idempotency_key', 'is not', null).doNothing(),
        )
        .returningAll()
        .executeTakeFirst();
      if (inserted === undefined) return { job: await existing(trx, job), created: false };

      let total = 0;
      for await (const chunk of items) {
        if (chunk.length === 0) continue;
        await trx
          .insertInto('job_items')
          .values(
            chunk.map((item) => ({
              job_id: inserted.id,
              item_index: total++,
              custom_id: item.customId,
              input: JSON.stringify(item.body),
            })),
          )
          .execute();
      }
      if (total === 0) throw validationError('body.inputs', 'the job has no items');
      const row = await trx
        .updateTable('jobs')
        .set({ total_items: total })
        .where('id', '=', inserted.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      const created = toJob(row);
      await appendToOutbox(trx, [jobRequestRecord(this.#topics, created, 1, jobRequestedEventType)]);
      await appendJobEvents(trx, this.#topics, created, ['jobs/job.queued']);
      return { job: created, created: true };
    });
  }

  async get(projectId: string, id: string): Promise<Job> {
    return toJob(await this.#row(this.#db, projectId, id));
  }

  async list(projectId: string, options: JobListOptions): Promise<Page<Job>> {
    let query = this.#db
      .selectFrom('jobs')
      .selectAll()
      .where('project_id', '=', projectId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(options.limit + 1);
    if (options.status !== undefined) query = query.where('status', '=', options.status);
    if (options.type !== undefined) query = query.where('type', '=', options.type);
    if (options.model !== undefined) query = query.where('model', '=', options.model);
    if (options.source !== undefined) query = query.where('source', '=', options.source);
    if (options.after !== undefined) {
      if (!jobIdPattern.test(options.after)) {
        throw validationError(
          'querystring.after',
          'is not a cursor from a previous page (pass nextCursor back unchanged)',
        );
      }
      // The cursor is the last job's id; its row gives the exact position (timestamps keep microseconds).
      query = query.where(
        sql<boolean>`(created_at, id) < (select created_at, id from jobs where id = ${options.after} and project_id = ${projectId})`,
      );
    }
    const rows = await query.execute();
    const items = rows.slice(0, options.limit).map(toJob);
    const last = items.at(-1);
    return rows.length > options.limit && last ? { items, nextCursor: last.id } : { items };
  }

  cancel(projectId: string, id: string, _actor: string | null): Promise<Job> {
    return this.#db.transaction().execute(async (trx) => {
      const row = await this.#row(trx, projectId, id, true);
      if (row.status === 'cancelled') return toJob(row);
      if (row.status !== 'queued' && row.status !== 'running') {
        throw new EnsembleError(
          'conflict',
          `job '${id}' has ended (${row.status}); only a queued or running job can be cancelled`,
          {
            details: { job: id, status: row.status },
          },
        );
      }
      const updated = await trx
        .updateTable('jobs')
        .set({
          status: 'cancelled',
          cancelled_at: sql`now()`,
          finished_at: sql`now()`,
          updated_at: sql`now()`,
          webhook_status: sql`case when webhook_url is null then null else 'pending' end`,
          webhook_next_at: sql`case when webhook_url is null then null else now() end`,
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      const job = toJob(updated);
      await appendJobEvents(trx, this.#topics, job, ['jobs/job.cancelled']);
      return job;
    });
  }

  retryFailed(projectId: string, id: string, _actor: string | null): Promise<Job> {
    return this.#db.transaction().execute(async (trx) => {
      const row = await this.#row(trx, projectId, id, true);
      if (row.status !== 'completed_with_errors') {
        throw new EnsembleError(
          'conflict',
          `job '${id}' is ${row.status}; only a job that completed with errors has failed items to retry`,
          { details: { job: id, status: row.status } },
        );
      }
      await trx.deleteFrom('job_results').where('job_id', '=', id).where('status', '=', 'failed').execute();
      const updated = await trx
        .updateTable('jobs')
        .set({
          status: 'running',
          failed_items: 0,
          round: sql`round + 1`,
          finished_at: null,
          updated_at: sql`now()`,
          webhook_status: null,
          webhook_attempts: 0,
          webhook_next_at: null,
          webhook_last_error: null,
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      const job = toJob(updated);
      await appendToOutbox(trx, [jobRequestRecord(this.#topics, job, job.round, jobRetryRequestedEventType)]);
      await appendJobEvents(trx, this.#topics, job, ['jobs/job.retried']);
      return job;
    });
  }

  async results(projectId: string, id: string, options: JobResultsOptions): Promise<StoredJobItemResult[]> {
    await this.#row(this.#db, projectId, id);
    let query = this.#db
      .selectFrom('job_results as r')
      .innerJoin('job_items as i', (join) =>
        join.onRef('i.job_id', '=', 'r.job_id').onRef('i.item_index', '=', 'r.item_index'),
      )
      .select([
        'r.item_index',
        'i.custom_id',
        'r.status',
        sql<string | null>`r.output::text`.as('output_json'),
        'r.error',
        'r.attempts',
        'r.input_tokens',
        'r.output_tokens',
        'r.cost_usd',
        'r.started_at',
        'r.finished_at',
      ])
      .where('r.job_id', '=', id)
      .orderBy('r.item_index')
      .limit(options.limit);
    if (options.afterIndex !== undefined) query = query.where('r.item_index', '>', options.afterIndex);
    if (options.status !== undefined) query = query.where('r.status', '=', options.status);
    const rows = await query.execute();
    return rows.map((row) => ({
      index: row.item_index,
      customId: row.custom_id,
      status: row.status as StoredJobItemResult['status'],
      outputJson: row.output_json,
      error: row.error,
      attempts: row.attempts,
      inputTokens: row.input_tokens,
      outputTokens: row.output_tokens,
      costUsd: row.cost_usd === null ? null : roundCost(Number(row.cost_usd)),
      startedAt: row.started_at,
      finishedAt: row.finished_at,
    }));
  }

  async events(projectId: string, id: string, afterSeq: number, limit: number): Promise<JobEvent[]> {
    await this.#row(this.#db, projectId, id);
    const rows = await this.#db
      .selectFrom('job_events')
      .select(['type', 'data'])
      .where('job_id', '=', id)
      .where('seq', '>', String(afterSeq))
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map((row) => ({ type: row.type as JobEventType, data: row.data as JobEvent['data'] }));
  }

  async #row(db: Db, projectId: string, id: string, forUpdate = false): Promise<JobRow> {
    if (!jobIdPattern.test(id)) throw notFound('job', id);
    let query = db.selectFrom('jobs').selectAll().where('id', '=', id).where('project_id', '=', projectId);
    if (forUpdate) query = query.forUpdate();
    const row = await query.executeTakeFirst();
    if (row === undefined) throw notFound('job', id);
    return row;
  }
}

/** The job an idempotency key already names; a different request under the same key is refused. */
async function existing(db: Db, job: NewJob): Promise<Job> {
  const row = await db
    .selectFrom('jobs')
    .selectAll()
    .where('project_id', '=', job.projectId)
    .where('idempotency_key', '=', job.idempotencyKey)
    .executeTakeFirstOrThrow();
  if (row.request_sha256 !== job.requestSha256) {
    throw new EnsembleError(
      'conflict',
      `idempotency key '${job.idempotencyKey}' was used for another request (job '${row.id}'); use a new key for a different job`,
      { field: 'idempotencyKey', details: { job: row.id } },
    );
  }
  return toJob(row);
}
