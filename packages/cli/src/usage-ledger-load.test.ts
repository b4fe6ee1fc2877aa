// The usage ledger end to end (issue 4, "Done when"): a started Ensemble takes a burst of concurrent
// /v1 calls, and the ledger ends up with exactly one row per request, which /api/usage agrees with —
// once over Kafka with a separate PostgreSQL, once over the embedded bus (the `npm start` default).
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDatabase, type Database } from '@ensemble/adapters/postgres';
import { createTestDatabase, type TestDatabase, testKafkaBrokers, uniqueName, waitFor } from '@ensemble/testkit';
import { sql } from 'kysely';
import { type FakeOpenAiUpstream, startFakeOpenAiUpstream } from '../../../bench/gateway/fake-openai-upstream.ts';
import { type EnsembleProcess, spawnEnsemble } from './testing/ensemble-process.ts';

const chatPrice = { inputPerMillionTokens: 0.15, outputPerMillionTokens: 0.6 };
const embedPrice = { inputPerMillionTokens: 0.02, outputPerMillionTokens: 0 };
const requestCount = 300;
const concurrency = 32;

/** What one request sent and what came back, as the ledger should have it. */
interface Sent {
  requestId: string;
  model: string;
  status: number;
  cacheHit: boolean;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/** The i-th request of the burst: chat (some streamed, repeats that the cache may answer), embeddings, unknown models. */
function requestFor(i: number, runId: string): { path: string; body: object; model: string; requestId: string } {
  const requestId = `${runId}-${i}`;
  if (i % 15 === 0)
    return {
      path: '/v1/chat/completions',
      model: 'no-such-model',
      requestId,
      body: { model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] },
    };
  if (i % 4 === 0)
    return {
      path: '/v1/embeddings',
      model: 'ledger-embed',
      requestId,
      body: { model: 'ledger-embed', input: [`text ${i}`, 'more'] },
    };
  const stream = i % 5 === 0;
  return {
    path: '/v1/chat/completions',
    model: 'ledger-chat',
    requestId,
    body: {
      model: 'ledger-chat',
      // Forty distinct questions: repeats may be answered by the response cache.
      messages: [{ role: 'user', content: `question ${i % 40}` }],
      ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
    },
  };
}

/** Usage as the response reports it (a stream's usage chunk included). */
function reportedUsage(text: string, contentType: string): { input: number; output: number } {
  const read = (usage: { prompt_tokens?: number; completion_tokens?: number } | null | undefined) => ({
    input: usage?.prompt_tokens ?? 0,
    output: usage?.completion_tokens ?? 0,
  });
  if (!contentType.includes('text/event-stream')) return read((JSON.parse(text) as { usage?: never }).usage);
  for (const line of text.split('\n')) {
    if (!line.startsWith('data: {')) continue;
    const chunk = JSON.parse(line.slice(6)) as { usage?: { prompt_tokens: number } | null };
    if (chunk.usage) return read(chunk.usage);
  }
  return { input: 0, output: 0 };
}

async function sendBurst(ensemble: EnsembleProcess, runId: string, count: number, from = 0): Promise<Sent[]> {
  const sent: Sent[] = [];
  let next = from;
  const worker = async () => {
    while (next < from + count) {
      const { path, body, model, requestId } = requestFor(next++, runId);
      const response = await fetch(`${ensemble.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': requestId, ...ensemble.auth },
        body: JSON.stringify(body),
      });
      const text = await response.text();
      const cacheHit = response.headers.get('x-ensemble-cache-status') === 'hit';
      const { input, output } =
        response.status === 200
          ? reportedUsage(text, response.headers.get('content-type') ?? '')
          : { input: 0, output: 0 };
      const price = model === 'ledger-chat' ? chatPrice : embedPrice;
      sent.push({
        requestId,
        model,
        status: response.status,
        cacheHit,
        inputTokens: input,
        outputTokens: output,
        costUsd:
          response.status === 200 && !cacheHit
            ? (input * price.inputPerMillionTokens + output * price.outputPerMillionTokens) / 1e6
            : 0,
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return sent;
}

interface LedgerRow {
  request_id: string;
  status: number;
  cache_hit: boolean;
  input_tokens: number;
  output_tokens: number;
  target: string | null;
}

describe('the usage ledger under load', { timeout: 600_000 }, () => {
  let upstream: FakeOpenAiUpstream;
  let home: string;
  let config: string;
  before(async () => {
    upstream = await startFakeOpenAiUpstream();
    home = await mkdtemp(join(tmpdir(), 'ensemble-ledger-'));
    config = join(home, 'ensemble.yaml');
    await writeFile(
      config,
      `models:
  - name: ledger-chat
    kind: chat
    provider: openai-compatible
    providerModelId: gpt-4o-mini
    baseUrl: ${upstream.url}/v1
    pricing: { inputPerMillionTokens: ${chatPrice.inputPerMillionTokens}, outputPerMillionTokens: ${chatPrice.outputPerMillionTokens} }
  - name: ledger-embed
    kind: embedding
    provider: openai-compatible
    providerModelId: text-embedding-3-small
    baseUrl: ${upstream.url}/v1
    pricing: { inputPerMillionTokens: ${embedPrice.inputPerMillionTokens}, outputPerMillionTokens: 0 }
`,
    );
  });
  after(async () => {
    await upstream.close();
    await rm(home, { recursive: true, force: true });
  });

  /** Sends the burst, waits for the ledger, and checks every row and the API's sums against what was sent. */
  const checkLedger = async (ensemble: EnsembleProcess, db: Database, runId: string) => {
    const started = performance.now();
    const sent = await sendBurst(ensemble, runId, requestCount);
    const burstMs = performance.now() - started;
    const rowsOf = async () =>
      (
        await sql<LedgerRow>`
          select request_id, status, cache_hit, input_tokens, output_tokens, target
          from usage_records where request_id like ${`${runId}-%`}`.execute(db.db)
      ).rows;
    await waitFor(`${requestCount} ledger rows`, async () => (await rowsOf()).length >= requestCount, {
      timeoutMs: 60_000,
      intervalMs: 100,
    });
    const ledgerMs = performance.now() - started - burstMs;
    // Let a wrongful extra row show up before counting.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const rows = await rowsOf();
    assert.equal(rows.length, requestCount, 'one row per request, no more');
    const byRequest = new Map(rows.map((row) => [row.request_id, row]));
    assert.equal(byRequest.size, requestCount, 'no request counted twice');
    for (const request of sent) {
      const row = byRequest.get(request.requestId);
      assert.ok(row, `request ${request.requestId} has its row`);
      assert.equal(row.status, request.status, request.requestId);
      assert.equal(row.cache_hit, request.cacheHit, request.requestId);
      assert.equal(row.input_tokens, request.inputTokens, request.requestId);
      assert.equal(row.output_tokens, request.outputTokens, request.requestId);
      assert.equal(row.target === null, request.status !== 200, request.requestId);
    }

    const sum = (pick: (s: Sent) => number) => sent.reduce((total, s) => total + pick(s), 0);
    const usage = await fetch(`${ensemble.url}/api/usage?bucket=hour&groupBy=model,status`, { headers: ensemble.auth });
    const summary = (await usage.json()) as {
      totals: Record<string, number>;
      series: Array<{ group: { model: string | null; status: number }; requests: number }>;
    };
    assert.equal(usage.status, 200, JSON.stringify(summary));
    const { totals } = summary;
    assert.equal(totals.requests, requestCount);
    assert.equal(
      totals.errors,
      sum((s) => (s.status === 200 ? 0 : 1)),
    );
    assert.equal(
      totals.cacheHits,
      sum((s) => (s.cacheHit ? 1 : 0)),
    );
    assert.equal(
      totals.inputTokens,
      sum((s) => s.inputTokens),
    );
    assert.equal(
      totals.outputTokens,
      sum((s) => s.outputTokens),
    );
    assert.ok(Math.abs((totals.costUsd ?? 0) - sum((s) => s.costUsd)) < 1e-9, `cost ${totals.costUsd}`);
    const perModel = new Map<string, number>();
    for (const row of summary.series) {
      const key = `${row.group.model}/${row.group.status}`;
      perModel.set(key, (perModel.get(key) ?? 0) + row.requests);
    }
    assert.equal(
      perModel.get('null/404'),
      sum((s) => (s.model === 'no-such-model' ? 1 : 0)),
    );
    assert.equal(
      perModel.get('ledger-embed@1/200'),
      sum((s) => (s.model === 'ledger-embed' ? 1 : 0)),
    );
    assert.equal(
      perModel.get('ledger-chat@1/200'),
      sum((s) => (s.model === 'ledger-chat' ? 1 : 0)),
    );
    return { burstMs, ledgerMs, cacheHits: totals.cacheHits };
  };

  it('over Kafka: exactly one ledger row per request, and /api/usage agrees', async () => {
    const database: TestDatabase = await createTestDatabase('ledger_kafka');
    const db = createDatabase({ url: database.url, poolSize: 2 });
    const ensemble = await spawnEnsemble(['start', '--config', config], {
      DATABASE_URL: database.url,
      KAFKA_BROKERS: testKafkaBrokers().join(','),
      // Topics and groups of their own on the shared broker: no other run's usage comes in, none of ours goes out.
      KAFKA_NAME_PREFIX: `${uniqueName('ledger')}.`,
      KAFKA_TOPIC_PARTITIONS: '3',
      ENSEMBLE_HOME: home,
    });
    try {
      const figures = await checkLedger(ensemble, db, uniqueName('kafka'));
      console.log(
        `kafka: ${requestCount} requests in ${figures.burstMs.toFixed(0)} ms, ledger complete ${figures.ledgerMs.toFixed(0)} ms later, ${figures.cacheHits} cache hits`,
      );
    } finally {
      assert.equal(await ensemble.stop(), 0, ensemble.output());
      await db.close();
      await database.drop();
    }
    assert.doesNotMatch(ensemble.output(), /usage events (could not be published|dropped)/);
  });

  it('over the embedded bus: exactly one row per request, /api/usage agrees, and calls made just before SIGTERM are not lost', async () => {
    const database: TestDatabase = await createTestDatabase('ledger_embedded');
    const db = createDatabase({ url: database.url, poolSize: 2 });
    const env = { DATABASE_URL: database.url, ENSEMBLE_HOME: home };
    const first = await spawnEnsemble(['start', '--config', config], env);
    const runId = uniqueName('embedded');
    let late: Sent[] = [];
    try {
      const figures = await checkLedger(first, db, runId);
      console.log(
        `embedded: ${requestCount} requests in ${figures.burstMs.toFixed(0)} ms, ledger complete ${figures.ledgerMs.toFixed(0)} ms later, ${figures.cacheHits} cache hits`,
      );
      // Answered, then the process is told to stop at once: the recorder's shutdown flush publishes them.
      late = await sendBurst(first, runId, 20, requestCount);
    } finally {
      assert.equal(await first.stop(), 0, first.output());
    }
    assert.equal(late.length, 20);
    const second = await spawnEnsemble(['start', '--config', config], env);
    try {
      await waitFor(
        'the calls answered before the shutdown',
        async () => {
          const { rows } = await sql<{ count: string }>`
            select count(distinct request_id) as count from usage_records where request_id like ${`${runId}-%`}`.execute(
            db.db,
          );
          return Number(rows[0]?.count) === requestCount + 20;
        },
        { timeoutMs: 60_000 },
      );
    } finally {
      assert.equal(await second.stop(), 0, second.output());
      await db.close();
      await database.drop();
    }
  });
});
