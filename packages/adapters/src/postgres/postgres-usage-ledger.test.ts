import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { EnsembleError, type RecordedUsage } from '@ensemble/core';
import { createTestDatabase, type TestDatabase } from '@ensemble/testkit';
import { sql } from 'kysely';
import { createDatabase, type Database } from './create-database.ts';
import { runMigrations } from './migration-runner.ts';
import { PostgresUsageLedger } from './postgres-usage-ledger.ts';
import { usageDayOf } from './usage-partitions.ts';

const dayMs = 86_400_000;

function usage(overrides: Partial<RecordedUsage> = {}): RecordedUsage {
  return {
    eventId: randomUUID(),
    requestId: randomUUID(),
    ts: new Date().toISOString(),
    projectId: 'default',
    keyId: 'key_AAAAAAAAAAAAAAAA',
    endpoint: 'chat',
    requested: 'gpt',
    route: null,
    target: 'gpt@1',
    provider: 'openai-compatible',
    inputTokens: 10,
    outputTokens: 5,
    costUsd: 0.000_015,
    latencyMs: 12,
    timeToFirstTokenMs: null,
    stream: false,
    status: 200,
    errorCode: null,
    cacheHit: false,
    attempts: 1,
    ...overrides,
  };
}

describe('PostgresUsageLedger', { timeout: 120_000 }, () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let ledger: PostgresUsageLedger;

  before(async () => {
    testDatabase = await createTestDatabase('usage_ledger');
    database = createDatabase({ url: testDatabase.url });
    await runMigrations(database);
    ledger = new PostgresUsageLedger(database.db, { maxSeriesRows: 50 });
  });
  after(async () => {
    await database.close();
    await testDatabase.drop();
  });

  const partitionOf = async (eventId: string) => {
    const { rows } = await sql<{ partition: string }>`
      select tableoid::regclass::text as partition from usage_records where event_id = ${eventId}`.execute(database.db);
    return rows[0]?.partition;
  };

  it('writes a batch once: a redelivered record adds nothing, and every field reads back as written', async () => {
    const projectId = 'p-idempotent';
    const first = [usage({ projectId }), usage({ projectId, costUsd: null, errorCode: 'upstream_error', status: 502 })];
    assert.equal(await ledger.append(first), 2);
    const routed = usage({
      projectId,
      route: 'chat-default',
      attempts: 2,
      trace: [
        {
          target: 'gpt',
          path: 'policy.targets[0]',
          attempt: 1,
          outcome: 'failure',
          status: 503,
          errorCode: 'upstream_error',
          latencyMs: 4.5,
          retryDelayMs: 0,
        },
        {
          target: 'backup',
          path: 'policy.targets[1]',
          attempt: 1,
          outcome: 'success',
          status: null,
          errorCode: null,
          latencyMs: 7,
          retryDelayMs: 0,
        },
      ],
    });
    const again = [...first, usage({ projectId, stream: true, timeToFirstTokenMs: 3.5, cacheHit: true }), routed];
    assert.equal(await ledger.append(again), 2, 'only the new records are written');
    const page = await ledger.listRecords({
      projectId,
      from: new Date(Date.now() - dayMs),
      to: new Date(Date.now() + dayMs),
      limit: 10,
    });
    assert.equal(page.items.length, 4);
    const byId = new Map(page.items.map((item) => [item.eventId, item]));
    for (const written of again) assert.deepEqual(byId.get(written.eventId), written);
    assert.equal(
      await partitionOf(first[0]?.eventId as string),
      `usage_records_p${usageDayOf(Date.now()).replaceAll('-', '')}`,
    );
  });

  it('keeps a far-off day in the default partition, and moves it into the day when that is prepared', async () => {
    const far = Date.now() + 40 * dayMs;
    const record = usage({ projectId: 'p-far', ts: new Date(far).toISOString() });
    await ledger.append([record]);
    assert.equal(await partitionOf(record.eventId), 'usage_records_default');
    const { prepared } = await ledger.maintain({ retentionDays: 90, now: new Date(far) });
    assert.ok(prepared.includes(usageDayOf(far)), `prepared ${prepared.join(', ')}`);
    assert.equal(await partitionOf(record.eventId), `usage_records_p${usageDayOf(far).replaceAll('-', '')}`);
    // Appending to the new partition, and again to the same record, still works.
    assert.equal(await ledger.append([record, usage({ projectId: 'p-far', ts: new Date(far + 1).toISOString() })]), 1);
  });

  it('drops the days older than the retention, whole, and old rows of the default partition', async () => {
    const now = Date.now() + 100 * dayMs;
    const old = usage({ projectId: 'p-retention', ts: new Date(now - 12 * dayMs).toISOString() });
    const kept = usage({ projectId: 'p-retention', ts: new Date(now - 9 * dayMs).toISOString() });
    await ledger.maintain({ retentionDays: 90, now: new Date(now - 11 * dayMs) }); // prepares now-12 … now-8
    await ledger.append([old, kept]);
    const strayOld = usage({ projectId: 'p-retention', ts: new Date(now - 30 * dayMs).toISOString() });
    await ledger.append([strayOld]);
    assert.equal(await partitionOf(strayOld.eventId), 'usage_records_default');

    const { dropped } = await ledger.maintain({ retentionDays: 10, now: new Date(now) });
    assert.ok(dropped.includes(usageDayOf(now - 12 * dayMs)), `dropped ${dropped.join(', ')}`);
    assert.ok(!dropped.includes(usageDayOf(now - 9 * dayMs)));
    assert.equal(await partitionOf(old.eventId), undefined);
    assert.equal(await partitionOf(strayOld.eventId), undefined);
    assert.ok(await partitionOf(kept.eventId));
    const days = await ledger.partitionDays();
    assert.ok(
      days.every((day) => day >= usageDayOf(now - 10 * dayMs)),
      `kept ${days.join(', ')}`,
    );
    assert.ok(days.includes(usageDayOf(now + 3 * dayMs)), 'days ahead are prepared');
  });

  it('summarizes by bucket and group, with totals, percentiles, errors, cache hits and exact cost', async () => {
    const projectId = 'p-summary';
    const base = Date.parse('2026-01-10T10:00:00Z');
    const at = (minutes: number) => new Date(base + minutes * 60_000).toISOString();
    const records = [
      ...Array.from({ length: 10 }, (_, i) =>
        usage({ projectId, ts: at(1), target: 'a@1', latencyMs: i + 1, costUsd: 0.1, inputTokens: 3 }),
      ),
      usage({ projectId, ts: at(61), target: 'a@1', latencyMs: 100, costUsd: 0.2, cacheHit: true }),
      usage({ projectId, ts: at(62), target: 'b@1', latencyMs: 50, costUsd: null, status: 502, errorCode: 'x' }),
      usage({ projectId: 'p-other', ts: at(2), target: 'a@1' }),
    ];
    await ledger.append(records);
    const query = {
      projectId,
      from: new Date(base),
      to: new Date(base + 3 * 3_600_000),
      bucket: 'hour' as const,
      groupBy: ['model' as const],
    };
    const { series, totals } = await ledger.summarize(query);
    assert.deepEqual(
      series.map((row) => [row.bucketStart.toISOString(), row.group.model, row.requests]),
      [
        ['2026-01-10T10:00:00.000Z', 'a@1', 10],
        ['2026-01-10T11:00:00.000Z', 'a@1', 1],
        ['2026-01-10T11:00:00.000Z', 'b@1', 1],
      ],
    );
    const first = series[0];
    assert.equal(first?.inputTokens, 30);
    assert.equal(first?.costUsd, 1, 'ten times 0.1 is exactly 1');
    assert.equal(first?.latencyP50Ms, 5.5);
    assert.equal(first?.latencyP95Ms, 9.55);
    assert.equal(totals.requests, 12);
    assert.equal(totals.errors, 1);
    assert.equal(totals.cacheHits, 1);
    assert.equal(totals.costUsd, 1.2);
    assert.equal(totals.timeToFirstTokenP50Ms, null);

    const all = await ledger.summarize({ ...query, projectId: null, groupBy: ['project', 'status'], bucket: 'day' });
    assert.deepEqual(
      all.series.map((row) => [row.group.project, row.group.status, row.requests]),
      [
        ['p-other', 200, 1],
        ['p-summary', 200, 11],
        ['p-summary', 502, 1],
      ],
    );
    const onlyB = await ledger.summarize({ ...query, model: 'b@1', groupBy: [] });
    assert.equal(onlyB.totals.requests, 1);
    assert.deepEqual(onlyB.series[0]?.group, {});
    const none = await ledger.summarize({ ...query, projectId: 'p-nobody' });
    assert.deepEqual(none.series, []);
    assert.equal(none.totals.requests, 0);
  });

  it('refuses a summary that would be too long, naming what to change', async () => {
    const projectId = 'p-long';
    const base = Date.parse('2026-02-01T00:00:00Z');
    await ledger.append(
      Array.from({ length: 60 }, (_, i) => usage({ projectId, ts: new Date(base + i * 60_000).toISOString() })),
    );
    await assert.rejects(
      ledger.summarize({
        projectId,
        from: new Date(base),
        to: new Date(base + 3_600_000),
        bucket: 'minute',
        groupBy: [],
      }),
      (error: unknown) =>
        EnsembleError.isInstance(error) && error.code === 'validation_failed' && /bucket/.test(error.message),
    );
  });

  it('pages raw rows newest first with a cursor, and refuses a made-up cursor', async () => {
    const projectId = 'p-pages';
    const base = Date.parse('2026-03-01T00:00:00Z');
    const records = Array.from({ length: 7 }, (_, i) =>
      // Two rows share each instant, so the cursor must break ties by event id.
      usage({ projectId, ts: new Date(base + Math.floor(i / 2) * 1_000).toISOString() }),
    );
    await ledger.append(records);
    const query = { projectId, from: new Date(base), to: new Date(base + dayMs), limit: 3 };
    const seen: RecordedUsage[] = [];
    let after: string | undefined;
    do {
      const page = await ledger.listRecords({ ...query, ...(after === undefined ? {} : { after }) });
      seen.push(...page.items);
      after = page.nextCursor;
    } while (after !== undefined);
    assert.equal(seen.length, 7);
    assert.equal(new Set(seen.map((r) => r.eventId)).size, 7);
    const order = seen.map((r) => [r.ts, r.eventId].join(' '));
    assert.deepEqual(order, [...order].sort().reverse());
    await assert.rejects(
      ledger.listRecords({ ...query, after: 'bm90LWEtY3Vyc29y' }),
      (error: unknown) => EnsembleError.isInstance(error) && error.code === 'validation_failed',
    );
  });
});
