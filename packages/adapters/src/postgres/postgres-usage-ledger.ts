import {
  type Logger,
  type Page,
  type RecordedUsage,
  silentLogger,
  type UsageAttempt,
  type UsageFigures,
  type UsageFilters,
  type UsageGrouping,
  type UsageLedger,
  type UsageLedgerMaintenance,
  type UsageLedgerWriter,
  type UsageRecordsQuery,
  type UsageSeriesRow,
  type UsageSummary,
  type UsageSummaryQuery,
  validationError,
} from '@ensemble/core';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { DatabaseSchema } from './database-schema.ts';
import { UsagePartitions, usageDayOf } from './usage-partitions.ts';

export interface PostgresUsageLedgerOptions {
  logger?: Logger;
  /** Rows one summary may return (buckets × groups) before it asks for a narrower query. Default 10,000. */
  maxSeriesRows?: number;
  /** How many days ahead `maintain` prepares partitions. Default 3. */
  daysAhead?: number;
}

const dayMs = 86_400_000;

/** The column each grouping reads. */
const groupColumns: Readonly<Record<UsageGrouping, string>> = {
  model: 'target',
  requested: 'requested',
  route: 'route',
  key: 'key_id',
  project: 'project_id',
  status: 'status',
};

const columns = [
  'ts',
  'event_id',
  'request_id',
  'project_id',
  'key_id',
  'endpoint',
  'requested',
  'route',
  'target',
  'provider',
  'input_tokens',
  'output_tokens',
  'cost_usd',
  'latency_ms',
  'time_to_first_token_ms',
  'stream',
  'status',
  'error_code',
  'cache_hit',
  'attempts',
  'attempt_trace',
] as const;

/** The `RecordedUsage` fields that fill `columns`, in the same order, with their SQL types. */
const recordFieldTypes: ReadonlyArray<readonly [keyof RecordedUsage, string]> = [
  ['ts', 'timestamptz'],
  ['eventId', 'text'],
  ['requestId', 'text'],
  ['projectId', 'text'],
  ['keyId', 'text'],
  ['endpoint', 'text'],
  ['requested', 'text'],
  ['route', 'text'],
  ['target', 'text'],
  ['provider', 'text'],
  ['inputTokens', 'integer'],
  ['outputTokens', 'integer'],
  ['costUsd', 'numeric'],
  ['latencyMs', 'double precision'],
  ['timeToFirstTokenMs', 'double precision'],
  ['stream', 'boolean'],
  ['status', 'smallint'],
  ['errorCode', 'text'],
  ['cacheHit', 'boolean'],
  ['attempts', 'integer'],
  ['trace', 'jsonb'],
];
const recordFields = recordFieldTypes.map(([field]) => field);
/** `"ts" timestamptz, "eventId" text, …`: the shape `json_to_recordset` reads. */
const recordColumns = recordFieldTypes.map(([field, type]) => `"${field}" ${type}`).join(', ');

interface FiguresRow {
  requests: string;
  errors: string;
  input_tokens: string;
  output_tokens: string;
  cost_usd: string;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
  ttft_p50_ms: number | null;
  cache_hits: string;
}

/**
 * The usage ledger in PostgreSQL: `usage_records`, partitioned by day (see `UsagePartitions`).
 * Writes are one `insert … select from json_to_recordset(…)` per batch (one parameter whatever the
 * batch size), idempotent on (ts, event_id). Reads aggregate with `percentile_cont` in one pass that
 * yields the series and the totals together (grouping sets).
 */
export class PostgresUsageLedger implements UsageLedger, UsageLedgerWriter {
  readonly #db: Kysely<DatabaseSchema>;
  readonly #partitions: UsagePartitions;
  readonly #maxSeriesRows: number;
  readonly #daysAhead: number;

  constructor(db: Kysely<DatabaseSchema>, options: PostgresUsageLedgerOptions = {}) {
    this.#db = db;
    this.#partitions = new UsagePartitions(db, options.logger ?? silentLogger);
    this.#maxSeriesRows = options.maxSeriesRows ?? 10_000;
    this.#daysAhead = options.daysAhead ?? 3;
  }

  async append(records: readonly RecordedUsage[]): Promise<number> {
    if (records.length === 0) return 0;
    // Days near now get their partition first; far-off ones (a clock gone wrong) stay in the default.
    const today = Math.floor(Date.now() / dayMs);
    const dayNumbers = new Set<number>();
    for (const record of records) {
      const day = Math.floor(Date.parse(record.ts) / dayMs);
      if (day >= today - 7 && day <= today + this.#daysAhead + 1) dayNumbers.add(day);
    }
    await this.#partitions.ensure([...dayNumbers].map((day) => usageDayOf(day * dayMs)));
    // One JSON parameter, the records as they are: JSON.stringify is native, while binding 20 arrays
    // has pg escape every string in JavaScript.
    const result = await sql`
      insert into usage_records (${sql.join(columns.map((column) => sql.ref(column)))})
      select date_trunc('milliseconds', ts), ${sql.join(recordFields.slice(1).map((field) => sql.ref(field)))}
      from json_to_recordset(${JSON.stringify(records)}::json) as r(${sql.raw(recordColumns)})
      on conflict do nothing`.execute(this.#db);
    return Number(result.numAffectedRows ?? 0n);
  }

  async maintain({
    retentionDays,
    now = new Date(),
  }: {
    retentionDays: number;
    now?: Date;
  }): Promise<UsageLedgerMaintenance> {
    const today = Date.parse(`${usageDayOf(now)}T00:00:00Z`);
    const days = Array.from({ length: this.#daysAhead + 2 }, (_, i) => usageDayOf(today + (i - 1) * dayMs));
    const prepared = await this.#partitions.ensure(days);
    // Whole days are kept: a day goes once all of it is older than the retention.
    const dropped = await this.#partitions.dropBefore(new Date(today - retentionDays * dayMs));
    return { prepared, dropped };
  }

  /** The days that have a partition (for tests and operators). */
  partitionDays(): Promise<string[]> {
    return this.#partitions.list();
  }

  async summarize(query: UsageSummaryQuery): Promise<UsageSummary> {
    const groups = [...new Set(query.groupBy)];
    const groupRefs = groups.map((grouping) => sql.ref(groupColumns[grouping]));
    const setWithGroups = sql.join([sql.ref('bucket_start'), ...groupRefs]);
    const { rows } = await sql<FiguresRow & { total: boolean; bucket_start: Date | null } & Record<string, unknown>>`
      with calls as (
        select date_trunc(${query.bucket}, ts, 'UTC') as bucket_start, *
        from usage_records
        where ${this.#where(query)}
      )
      select grouping(bucket_start) = 1 as total, bucket_start
        ${groups.length === 0 ? sql`` : sql`, ${sql.join(groups.map((g) => sql`${sql.ref(groupColumns[g])} as ${sql.ref(`g_${g}`)}`))}`},
        ${figures()}
      from calls
      group by grouping sets ((${setWithGroups}), ())
      order by total desc, bucket_start ${groups.length === 0 ? sql`` : sql`, ${sql.join(groupRefs)}`}
      limit ${this.#maxSeriesRows + 2}`.execute(this.#db);
    const totalsRow = rows.find((row) => row.total);
    const seriesRows = rows.filter((row) => !row.total);
    if (seriesRows.length > this.#maxSeriesRows) {
      throw validationError(
        'querystring.bucket',
        `the answer would exceed ${this.#maxSeriesRows} rows: narrow from/to, use a coarser bucket or fewer groupBy fields`,
      );
    }
    const series: UsageSeriesRow[] = seriesRows.map((row) => ({
      bucketStart: row.bucket_start as Date,
      group: Object.fromEntries(groups.map((g) => [g, row[`g_${g}`] as string | number | null])),
      ...figuresOf(row),
    }));
    return { series, totals: totalsRow ? figuresOf(totalsRow) : emptyFigures() };
  }

  async listRecords(query: UsageRecordsQuery): Promise<Page<RecordedUsage>> {
    const after = query.after === undefined ? undefined : decodeUsageCursor(query.after);
    const { rows } = await sql<RecordRow>`
      select ${sql.join(columns.map((column) => sql.ref(column)))}
      from usage_records
      where ${this.#where(query)}
        ${after === undefined ? sql`` : sql`and (ts, event_id) < (${after.ts}::timestamptz, ${after.eventId})`}
      order by ts desc, event_id desc
      limit ${query.limit + 1}`.execute(this.#db);
    const items = rows.slice(0, query.limit).map(recordOf);
    const last = items[items.length - 1];
    return rows.length > query.limit && last !== undefined
      ? { items, nextCursor: encodeUsageCursor(last.ts, last.eventId) }
      : { items };
  }

  #where(query: UsageFilters & { from: Date; to: Date }): RawBuilder<unknown> {
    const conditions = [
      sql`ts >= ${query.from.toISOString()}::timestamptz`,
      sql`ts < ${query.to.toISOString()}::timestamptz`,
    ];
    if (query.projectId !== null) conditions.push(sql`project_id = ${query.projectId}`);
    if (query.model !== undefined) conditions.push(sql`target = ${query.model}`);
    if (query.requested !== undefined) conditions.push(sql`requested = ${query.requested}`);
    if (query.route !== undefined) conditions.push(sql`route = ${query.route}`);
    if (query.keyId !== undefined) conditions.push(sql`key_id = ${query.keyId}`);
    if (query.status !== undefined) conditions.push(sql`status = ${query.status}`);
    return sql.join(conditions, sql` and `);
  }
}

function figures(): RawBuilder<unknown> {
  return sql`
    count(*) as requests,
    count(*) filter (where error_code is not null) as errors,
    coalesce(sum(input_tokens), 0) as input_tokens,
    coalesce(sum(output_tokens), 0) as output_tokens,
    coalesce(sum(cost_usd), 0)::text as cost_usd,
    percentile_cont(0.5) within group (order by latency_ms) as latency_p50_ms,
    percentile_cont(0.95) within group (order by latency_ms) as latency_p95_ms,
    percentile_cont(0.5) within group (order by time_to_first_token_ms) as ttft_p50_ms,
    count(*) filter (where cache_hit) as cache_hits`;
}

function figuresOf(row: FiguresRow): UsageFigures {
  return {
    requests: Number(row.requests),
    errors: Number(row.errors),
    inputTokens: Number(row.input_tokens),
    outputTokens: Number(row.output_tokens),
    costUsd: Number(row.cost_usd),
    latencyP50Ms: toMicroseconds(row.latency_p50_ms),
    latencyP95Ms: toMicroseconds(row.latency_p95_ms),
    timeToFirstTokenP50Ms: toMicroseconds(row.ttft_p50_ms),
    cacheHits: Number(row.cache_hits),
  };
}

/** Milliseconds rounded to the microsecond: interpolation leaves float noise below that. */
function toMicroseconds(ms: number | null): number | null {
  return ms === null ? null : Math.round(ms * 1_000) / 1_000;
}

function emptyFigures(): UsageFigures {
  return {
    requests: 0,
    errors: 0,
    inputTokens: 0,
    outputTokens: 0,
    costUsd: 0,
    latencyP50Ms: null,
    latencyP95Ms: null,
    timeToFirstTokenP50Ms: null,
    cacheHits: 0,
  };
}

interface RecordRow {
  ts: Date;
  event_id: string;
  request_id: string;
  project_id: string;
  key_id: string | null;
  endpoint: RecordedUsage['endpoint'];
  requested: string;
  route: string | null;
  target: string | null;
  provider: string | null;
  input_tokens: number;
  output_tokens: number;
  cost_usd: string | null;
  latency_ms: number;
  time_to_first_token_ms: number | null;
  stream: boolean;
  status: number;
  error_code: string | null;
  cache_hit: boolean;
  attempts: number;
  attempt_trace: UsageAttempt[] | null;
}

function recordOf(row: RecordRow): RecordedUsage {
  return {
    eventId: row.event_id,
    requestId: row.request_id,
    ts: row.ts.toISOString(),
    projectId: row.project_id,
    keyId: row.key_id,
    endpoint: row.endpoint,
    requested: row.requested,
    route: row.route,
    target: row.target,
    provider: row.provider,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    costUsd: row.cost_usd === null ? null : Number(row.cost_usd),
    latencyMs: row.latency_ms,
    timeToFirstTokenMs: row.time_to_first_token_ms,
    stream: row.stream,
    status: row.status,
    errorCode: row.error_code,
    cacheHit: row.cache_hit,
    attempts: row.attempts,
    ...(row.attempt_trace === null ? {} : { trace: row.attempt_trace }),
  };
}

/** Opaque to clients: the last row of a page, by (ts, event id). */
function encodeUsageCursor(ts: string, eventId: string): string {
  return Buffer.from(JSON.stringify([ts, eventId])).toString('base64url');
}

function decodeUsageCursor(value: string): { ts: string; eventId: string } {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2) {
      const [ts, eventId] = parsed as unknown[];
      if (typeof ts === 'string' && !Number.isNaN(Date.parse(ts)) && typeof eventId === 'string')
        return { ts, eventId };
    }
  } catch {
    // Falls through to the validation error below.
  }
  throw validationError('querystring.after', 'is not a cursor from a previous page (pass nextCursor back unchanged)');
}
