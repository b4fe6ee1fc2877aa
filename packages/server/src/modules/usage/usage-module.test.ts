import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createDatabase, type Database, PostgresUsageLedger, runMigrations } from '@ensemble/adapters/postgres';
import type { RecordedUsage } from '@ensemble/core';
import { createTestDatabase, type TestDatabase } from '@ensemble/testkit';
import type { EnsembleApp } from '../../app-types.ts';
import { InMemoryApiKeys } from '../../testing/in-memory-api-keys.ts';
import { buildTestApp } from '../../testing/test-app.ts';
import { usageModule } from './usage-module.ts';

type Headers = Record<string, string>;

const minute = 60_000;

function usage(overrides: Partial<RecordedUsage>): RecordedUsage {
  return {
    eventId: randomUUID(),
    requestId: randomUUID(),
    ts: new Date().toISOString(),
    projectId: 'default',
    keyId: null,
    endpoint: 'chat',
    requested: 'chat',
    route: null,
    target: 'chat@1',
    provider: 'openai-compatible',
    inputTokens: 10,
    outputTokens: 20,
    costUsd: 0.001,
    latencyMs: 10,
    timeToFirstTokenMs: null,
    stream: false,
    status: 200,
    errorCode: null,
    cacheHit: false,
    attempts: 1,
    ...overrides,
  };
}

describe('/api/usage', { timeout: 60_000 }, () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let app: EnsembleApp;
  let admin: Headers;
  let teamKey: Headers;
  let teamKeyId: string;
  // Whole minutes a while ago, so the default range (the last 24 hours) holds them all.
  const base = Math.floor((Date.now() - 2 * 3_600_000) / 3_600_000) * 3_600_000;
  const at = (minutes: number) => new Date(base + minutes * minute).toISOString();

  before(async () => {
    testDatabase = await createTestDatabase('usage_api');
    database = createDatabase({ url: testDatabase.url });
    await runMigrations(database);
    const ledger = new PostgresUsageLedger(database.db);
    const keys = new InMemoryApiKeys(['default', 'team-a']);
    ({ app, admin } = await buildTestApp({ keys, modules: [usageModule(ledger)] }));
    const created = await keys.add('team-a', { name: 'team' });
    teamKey = { authorization: `Bearer ${created.secret}` };
    teamKeyId = created.key.id;
    await ledger.append([
      usage({ projectId: 'team-a', keyId: teamKeyId, ts: at(0), latencyMs: 10 }),
      usage({ projectId: 'team-a', keyId: teamKeyId, ts: at(0), latencyMs: 30, cacheHit: true, costUsd: 0 }),
      usage({
        projectId: 'team-a',
        keyId: teamKeyId,
        ts: at(1),
        target: 'other@2',
        status: 502,
        errorCode: 'upstream_error',
        costUsd: null,
      }),
      usage({ projectId: 'team-a', ts: at(2), stream: true, timeToFirstTokenMs: 4 }),
      usage({ projectId: 'default', ts: at(0), inputTokens: 1_000 }),
    ]);
  });
  after(async () => {
    await app.close();
    await database.close();
    await testDatabase.drop();
  });

  const get = async (url: string, headers: Headers) => {
    const response = await app.inject({ method: 'GET', url, headers });
    return { status: response.statusCode, body: response.json() };
  };

  it("sums a key's own project by bucket and group, with totals", async () => {
    const { status, body } = await get('/api/usage?bucket=minute&groupBy=model,status', teamKey);
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.projectId, 'team-a');
    assert.deepEqual(body.groupBy, ['model', 'status']);
    assert.deepEqual(
      body.series.map((row: { bucketStart: string; group: object; requests: number }) => [
        row.bucketStart,
        row.group,
        row.requests,
      ]),
      [
        [at(0), { model: 'chat@1', status: 200 }, 2],
        [at(1), { model: 'other@2', status: 502 }, 1],
        [at(2), { model: 'chat@1', status: 200 }, 1],
      ],
    );
    assert.deepEqual(body.series[0], {
      ...body.series[0],
      inputTokens: 20,
      outputTokens: 40,
      costUsd: 0.001,
      latencyP50Ms: 20,
      cacheHits: 1,
      errors: 0,
    });
    assert.deepEqual(body.totals, {
      requests: 4,
      errors: 1,
      inputTokens: 40,
      outputTokens: 80,
      costUsd: 0.002,
      latencyP50Ms: 10,
      latencyP95Ms: 27,
      timeToFirstTokenP50Ms: 4,
      cacheHits: 1,
    });
  });

  it('filters by key, model and status', async () => {
    const byKey = await get(`/api/usage?key=${teamKeyId}`, teamKey);
    assert.equal(byKey.body.totals.requests, 3);
    const byModel = await get('/api/usage?model=other%402&status=502', teamKey);
    assert.equal(byModel.body.totals.requests, 1);
  });

  it('shows an admin key every project, or the one it names', async () => {
    const all = await get('/api/usage?bucket=day&groupBy=project', admin);
    assert.equal(all.status, 200);
    assert.equal(all.body.projectId, null);
    assert.equal(all.body.totals.requests, 5);
    const byProject = Object.fromEntries(
      all.body.series.map((row: { group: { project: string }; requests: number }) => [row.group.project, row.requests]),
    );
    assert.deepEqual(byProject, { default: 1, 'team-a': 4 });
    const named = await get('/api/usage', { ...admin, 'x-ensemble-project': 'default' });
    assert.equal(named.body.projectId, 'default');
    assert.equal(named.body.totals.inputTokens, 1_000);
    const refused = await get('/api/usage', { ...teamKey, 'x-ensemble-project': 'default' });
    assert.equal(refused.status, 404, 'another project does not exist for a project key');
  });

  it('refuses a bad range, bucket or grouping with a 400 that names the field', async () => {
    const cases: Array<[string, RegExp]> = [
      ['/api/usage?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', /querystring\.from.*before to/],
      ['/api/usage?from=2026-01-01T00:00:00Z&to=2026-01-03T00:00:00Z&bucket=minute', /at most 24 hours/],
      ['/api/usage?bucket=week', /bucket/],
      ['/api/usage?groupBy=model,colour', /groupBy/],
      ['/api/usage?from=yesterday', /from/],
      ['/api/usage?project=team-a', /project/],
      ['/api/usage/records?limit=0', /limit/],
      ['/api/usage/records?after=bogus', /after/],
    ];
    for (const [url, message] of cases) {
      const { status, body } = await get(url, admin);
      assert.equal(status, 400, `${url}: ${JSON.stringify(body)}`);
      assert.match(body.error.message, message, url);
    }
    const missing = await app.inject({ method: 'GET', url: '/api/usage' });
    assert.equal(missing.statusCode, 401);
  });

  it('pages the raw records of the project, newest first', async () => {
    const first = await get('/api/usage/records?limit=3', teamKey);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.data.length, 3);
    const second = await get(`/api/usage/records?limit=3&after=${first.body.nextCursor}`, teamKey);
    assert.equal(second.body.data.length, 1);
    assert.equal(second.body.nextCursor, null);
    const rows = [...first.body.data, ...second.body.data];
    assert.ok(rows.every((row: RecordedUsage) => row.projectId === 'team-a'));
    const times = rows.map((row: RecordedUsage) => row.ts);
    assert.deepEqual(times, [...times].sort().reverse());
    assert.equal(rows[0].timeToFirstTokenMs, 4);
  });

  it('is in the OpenAPI document', async () => {
    const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    assert.ok(document.paths['/api/usage']?.get);
    assert.ok(document.paths['/api/usage/records']?.get);
    assert.ok(document.components.schemas.UsageSummary);
  });
});
