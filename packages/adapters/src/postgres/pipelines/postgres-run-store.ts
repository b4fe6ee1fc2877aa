import type {
  InterruptedRun,
  JobItemRun,
  NewRun,
  Page,
  RunJournal,
  RunRecord,
  RunStatus,
  RunStore,
  StepRecord,
} from '@ensemble/core';
import type pg from 'pg';
import { withDatabaseErrors } from '../database-errors.ts';

export interface PostgresRunStoreOptions {
  /** This process, as the owner of the runs it runs (host:pid:random). */
  owner: string;
  /** How long a run counts as tended after its owner last renewed its lease. */
  leaseMs: number;
  /** JSON keys whose values are replaced by `[redacted]` in traces (run and step input and output). */
  redactKeys?: readonly string[];
}

interface RunRow {
  id: string;
  project_id: string;
  pipeline: string;
  version: number;
  status: RunStatus;
  source: RunRecord['source'];
  shadow_of: string | null;
  job_id: string | null;
  job_item: number | null;
  key_id: string | null;
  input: unknown;
  output: unknown;
  error: RunRecord['error'];
  input_tokens: string;
  output_tokens: string;
  cost_usd: string | null;
  latency_ms: number | null;
  resumed: number;
  created_at: Date;
  finished_at: Date | null;
}

interface StepRow {
  path: string;
  parent_path: string | null;
  step_id: string;
  kind: StepRecord['kind'];
  status: StepRecord['status'];
  attempt: number;
  input: unknown;
  output: unknown;
  checkpoint: unknown;
  model: string | null;
  input_tokens: string;
  output_tokens: string;
  cost_usd: string | null;
  latency_ms: number;
  error: StepRecord['error'];
  cached: boolean;
  started_at: Date;
  finished_at: Date | null;
}

/** The channel a run's cancellation is announced on (payload: the run id). */
export const runCancelChannel = 'ensemble_run_cancel';

/**
 * Runs and step traces in PostgreSQL. A step's raw result is its checkpoint (kept in `checkpoint`
 * until the run ends, then cleared); what the trace shows is the redacted copy. Runs are leased by
 * the process running them; `claimInterrupted` takes over runs whose owner stopped renewing.
 */
export class PostgresRunStore implements RunStore {
  readonly #pool: pg.Pool;
  readonly #options: PostgresRunStoreOptions;
  readonly #redact: ReadonlySet<string>;

  constructor(pool: pg.Pool, options: PostgresRunStoreOptions) {
    this.#pool = pool;
    this.#options = options;
    this.#redact = new Set(options.redactKeys ?? []);
  }

  async create(run: NewRun): Promise<void> {
    await this.#insert(run, null);
  }

  async createJobItemRun(run: NewRun & { jobKey: string }): Promise<boolean> {
    return (await this.#insert(run, run.jobKey)) > 0;
  }

  async jobItemRun(jobKey: string): Promise<JobItemRun | undefined> {
    const { rows } = await this.#query<{
      id: string;
      status: RunStatus;
      output: unknown;
      error: RunRecord['error'];
      lease_live: boolean;
    }>(
      `select id, status, output, error, coalesce(lease_until >= now(), false) as lease_live
       from pipeline_runs where job_key = $1`,
      [jobKey],
    );
    const row = rows[0];
    return row === undefined
      ? undefined
      : { id: row.id, status: row.status, output: row.output, error: row.error, leaseLive: row.lease_live };
  }

  async adopt(runId: string): Promise<InterruptedRun | undefined> {
    const ended = await this.#query(
      `update pipeline_runs set status = 'cancelled', finished_at = now(), raw_input = null, owner = null,
         lease_until = null, error = '{"code": "request_timeout", "message": "the run was cancelled"}'
       where id = $1 and status = 'running' and lease_until < now() and cancel_requested_at is not null`,
      [runId],
    );
    if ((ended.rowCount ?? 0) > 0) {
      await this.#query('update pipeline_run_steps set checkpoint = null where run_id = $1', [runId]);
      return undefined;
    }
    const { rows } = await this.#query<{
      id: string;
      project_id: string;
      pipeline: string;
      version: number;
      raw_input: unknown;
      key_id: string | null;
    }>(
      `update pipeline_runs set owner = $2, lease_until = now() + make_interval(secs => $3 / 1000.0), resumed = resumed + 1
       where id = (select id from pipeline_runs where id = $1 and status = 'running' and lease_until < now()
                     and cancel_requested_at is null for update skip locked)
       returning id, project_id, pipeline, version, raw_input, key_id`,
      [runId, this.#options.owner, this.#options.leaseMs],
    );
    const row = rows[0];
    return row === undefined
      ? undefined
      : {
          id: row.id,
          projectId: row.project_id,
          pipeline: row.pipeline,
          version: row.version,
          input: row.raw_input,
          keyId: row.key_id,
        };
  }

  async release(runId: string): Promise<void> {
    await this.#query(
      `update pipeline_runs set owner = null, lease_until = now() - interval '1 millisecond'
       where id = $1 and owner = $2 and status = 'running'`,
      [runId, this.#options.owner],
    );
  }

  async releaseJobItemKey(runId: string): Promise<void> {
    await this.#query(`update pipeline_runs set job_key = null where id = $1 and status <> 'running'`, [runId]);
  }

  /** Inserts a running run leased to this process; 0 when its job item key is taken. */
  async #insert(run: NewRun, jobKey: string | null): Promise<number> {
    const result = await this.#query(
      `insert into pipeline_runs (id, project_id, pipeline, version, status, source, shadow_of, key_id, input, raw_input,
         owner, lease_until, job_id, job_item, job_key)
       values ($1, $2, $3, $4, 'running', $5, $6, $7, $8, $9, $10, now() + make_interval(secs => $11 / 1000.0), $12, $13,
         $14)
       on conflict (job_key) do nothing`,
      [
        run.id,
        run.projectId,
        run.pipeline,
        run.version,
        run.source,
        run.shadowOf ?? null,
        run.keyId,
        this.#json(redact(run.input, this.#redact)),
        this.#json(run.input),
        this.#options.owner,
        this.#options.leaseMs,
        run.job?.id ?? null,
        run.job?.item ?? null,
        jobKey,
      ],
    );
    return result.rowCount ?? 0;
  }

  async journal(runId: string): Promise<RunJournal> {
    const { rows } = await this.#query<StepRow>(
      "select * from pipeline_run_steps where run_id = $1 and status = 'succeeded'",
      [runId],
    );
    const finished = new Map(rows.map((row) => [row.path, { ...toStep(row), output: row.checkpoint }]));
    const write = (record: StepRecord) =>
      this.#query(
        `insert into pipeline_run_steps (run_id, path, parent_path, step_id, kind, status, attempt, input, output,
           checkpoint, model, input_tokens, output_tokens, cost_usd, latency_ms, error, cached, started_at, finished_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
         on conflict (run_id, path) do update set status = excluded.status, attempt = excluded.attempt,
           input = excluded.input, output = excluded.output, checkpoint = excluded.checkpoint, model = excluded.model,
           input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens, cost_usd = excluded.cost_usd,
           latency_ms = excluded.latency_ms, error = excluded.error, cached = excluded.cached,
           started_at = excluded.started_at, finished_at = excluded.finished_at`,
        [
          runId,
          record.path,
          record.parentPath,
          record.stepId,
          record.kind,
          record.status,
          record.attempt,
          this.#json(redact(record.input, this.#redact)),
          this.#json(redact(record.output, this.#redact)),
          record.status === 'succeeded' ? this.#json({ value: record.output }) : null,
          record.model,
          record.inputTokens,
          record.outputTokens,
          record.costUsd,
          record.latencyMs,
          record.error === null ? null : JSON.stringify(record.error),
          record.cached,
          record.startedAt,
          record.finishedAt,
        ],
      ).then(() => undefined);
    return {
      finished: (path) => {
        const record = finished.get(path);
        return record === undefined
          ? undefined
          : { ...record, output: (record.output as { value: unknown } | null)?.value };
      },
      stepStarted: write,
      stepFinished: write,
    };
  }

  async finish(
    runId: string,
    outcome: { status: Exclude<RunStatus, 'running'>; output: unknown; error: RunRecord['error']; latencyMs: number },
  ): Promise<void> {
    await this.#query(
      `with totals as (
         select coalesce(sum(input_tokens), 0) as input_tokens, coalesce(sum(output_tokens), 0) as output_tokens,
                sum(cost_usd) as cost_usd
         from pipeline_run_steps where run_id = $1 and model is not null)
       update pipeline_runs set status = $2, output = $3, error = $4, latency_ms = $5, finished_at = now(),
         raw_input = null, owner = null, lease_until = null,
         input_tokens = totals.input_tokens, output_tokens = totals.output_tokens, cost_usd = totals.cost_usd
       from totals where id = $1`,
      [
        runId,
        outcome.status,
        this.#json(redact(outcome.output, this.#redact)),
        outcome.error === null ? null : JSON.stringify(outcome.error),
        outcome.latencyMs,
      ],
    );
    // The checkpoints served their purpose: only the (redacted) trace is kept.
    await this.#query('update pipeline_run_steps set checkpoint = null where run_id = $1 and checkpoint is not null', [
      runId,
    ]);
  }

  async get(projectId: string, id: string): Promise<(RunRecord & { steps: StepRecord[] }) | undefined> {
    const { rows } = await this.#query<RunRow>('select * from pipeline_runs where project_id = $1 and id = $2', [
      projectId,
      id,
    ]);
    const row = rows[0];
    if (row === undefined) return undefined;
    const steps = await this.#query<StepRow>(
      'select * from pipeline_run_steps where run_id = $1 order by started_at, path',
      [id],
    );
    return { ...toRun(row), steps: steps.rows.map(toStep) };
  }

  async list(
    projectId: string,
    options: {
      limit: number;
      after?: string | undefined;
      pipeline?: string | undefined;
      status?: RunStatus | undefined;
      jobId?: string | undefined;
    },
  ): Promise<Page<RunRecord>> {
    const { rows } = await this.#query<RunRow>(
      `select * from pipeline_runs where project_id = $1
         and ($2::text is null or pipeline = $2) and ($3::text is null or status = $3)
         and ($4::text is null or (created_at, id) < (select created_at, id from pipeline_runs where id = $4))
         and ($6::text is null or job_id = $6)
       order by created_at desc, id desc limit $5`,
      [
        projectId,
        options.pipeline ?? null,
        options.status ?? null,
        options.after ?? null,
        options.limit + 1,
        options.jobId ?? null,
      ],
    );
    const items = rows.slice(0, options.limit).map(toRun);
    const last = items.at(-1);
    return rows.length > options.limit && last !== undefined ? { items, nextCursor: last.id } : { items };
  }

  async renewLeases(): Promise<string[]> {
    const { rows } = await this.#query<{ id: string; cancel_requested_at: Date | null }>(
      `update pipeline_runs set lease_until = now() + make_interval(secs => $2 / 1000.0)
       where owner = $1 and status = 'running'
       returning id, cancel_requested_at`,
      [this.#options.owner, this.#options.leaseMs],
    );
    return rows.filter((row) => row.cancel_requested_at !== null).map((row) => row.id);
  }

  async requestCancel(projectId: string, runId: string): Promise<boolean> {
    // The NOTIFY is sent when the statement commits, to every listening instance.
    const { rows } = await this.#query<{ id: string }>(
      `with marked as (
         update pipeline_runs set cancel_requested_at = coalesce(cancel_requested_at, now())
         where project_id = $1 and id = $2 and status = 'running'
         returning id)
       select id, pg_notify('${runCancelChannel}', id) from marked`,
      [projectId, runId],
    );
    return rows.length > 0;
  }

  async claimInterrupted(limit: number, running: readonly string[]): Promise<InterruptedRun[]> {
    // A run whose process died with its cancellation pending ends here, instead of being resumed.
    const ended = await this.#query<{ id: string }>(
      `update pipeline_runs set status = 'cancelled', finished_at = now(), raw_input = null, owner = null,
         lease_until = null, error = '{"code": "request_timeout", "message": "the run was cancelled"}'
       where status = 'running' and lease_until < now() and cancel_requested_at is not null
       returning id`,
      [],
    );
    if (ended.rows.length > 0) {
      await this.#query('update pipeline_run_steps set checkpoint = null where run_id = any($1::text[])', [
        ended.rows.map((row) => row.id),
      ]);
    }
    const { rows } = await this.#query<{
      id: string;
      project_id: string;
      pipeline: string;
      version: number;
      raw_input: unknown;
      key_id: string | null;
    }>(
      `update pipeline_runs set owner = $1, lease_until = now() + make_interval(secs => $2 / 1000.0), resumed = resumed + 1
       where id in (select id from pipeline_runs where status = 'running' and lease_until < now()
                      and cancel_requested_at is null and not (id = any($4::text[]))
                    order by lease_until limit $3 for update skip locked)
       returning id, project_id, pipeline, version, raw_input, key_id`,
      [this.#options.owner, this.#options.leaseMs, limit, [...running]],
    );
    return rows.map((row) => ({
      id: row.id,
      projectId: row.project_id,
      pipeline: row.pipeline,
      version: row.version,
      input: row.raw_input,
      keyId: row.key_id,
    }));
  }

  async sweep(retentionDays: number): Promise<number> {
    const result = await this.#query(
      `delete from pipeline_runs where finished_at < now() - make_interval(days => $1)`,
      [retentionDays],
    );
    return result.rowCount ?? 0;
  }

  #json(value: unknown): string | null {
    return value === undefined ? null : JSON.stringify(value);
  }

  #query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    return withDatabaseErrors(() => this.#pool.query<R>(text, values));
  }
}

/** A copy of a JSON value with the values of the named keys replaced, at any depth. */
export function redact(value: unknown, keys: ReadonlySet<string>): unknown {
  if (keys.size === 0 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => redact(item, keys));
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, keys.has(key) ? '[redacted]' : redact(item, keys)]),
  );
}

function toRun(row: RunRow): RunRecord {
  return {
    id: row.id,
    projectId: row.project_id,
    pipeline: row.pipeline,
    version: row.version,
    status: row.status,
    source: row.source,
    shadowOf: row.shadow_of,
    jobId: row.job_id,
    jobItem: row.job_item,
    keyId: row.key_id,
    input: row.input,
    output: row.output,
    error: row.error,
    inputTokens: Number(row.input_tokens),
    outputTokens: Number(row.output_tokens),
    costUsd: row.cost_usd === null ? null : Number(row.cost_usd),
    latencyMs: row.latency_ms,
    resumed: row.resumed,
    createdAt: row.created_at.toISOString(),
    finishedAt: row.finished_at?.toISOString() ?? null,
  };
}

function toStep(row: StepRow): StepRecord {
  return {
    path: row.path,
    parentPath: row.parent_path,
    stepId: row.step_id,
    kind: row.kind,
    status: row.status,
    attempt: row.attempt,
    input: row.input,
    output: row.output,
    model: row.model,
    inputTokens: Number(row.input_tokens),
    outputTokens: Number(row.output_tokens),
    costUsd: row.cost_usd === null ? null : Number(row.cost_usd),
    latencyMs: row.latency_ms,
    error: row.error,
    startedAt: row.started_at.toISOString(),
    finishedAt: row.finished_at?.toISOString() ?? null,
    cached: row.cached,
  };
}
