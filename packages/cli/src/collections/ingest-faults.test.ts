// Document ingestion under faults, on a real `ensemble start` (PostgreSQL, the shared Kafka broker,
// the built-in MiniLM embeddings): the process is killed with SIGKILL mid-document and restarted —
// Kafka delivers the document again, and it ends with each chunk once and its progress counted once;
// a cancelled ingestion leaves none of its chunks searchable.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makePdf } from '@ensemble/adapters/documents/testing';
import { createTestDatabase, type TestDatabase, testKafkaBrokers, uniqueName } from '@ensemble/testkit';
import { linkBuiltInArtifacts } from '../testing/built-in-artifacts.ts';
import { type EnsembleProcess, spawnEnsemble } from '../testing/ensemble-process.ts';
import { type FakeJobUpstream, startFakeJobUpstream } from '../testing/fake-job-upstream.ts';
import { readSse } from '../testing/read-sse.ts';

const embeddingModel = 'local/all-minilm-l6-v2@1';

/** One short sentence per page; page 500 alone is about volcanoes. */
function bookOf(pages: number, topic: string): Promise<Uint8Array> {
  return makePdf(
    Array.from({ length: pages }, (_, page) =>
      page === 500
        ? ['A volcano erupts molten lava and ash through a crack in the crust.']
        : [`Page ${page} of the ${topic} log: tyres pumped and chain oiled.`],
    ),
  );
}

interface JobJson {
  status: string;
  progress: { unit: string; done: number; total: number };
}

describe('document ingestion under faults (Kafka)', { timeout: 600_000 }, () => {
  let home: string;
  let database: TestDatabase;
  let ensemble: EnsembleProcess | undefined;
  let env: Record<string, string>;
  let upstream: FakeJobUpstream;
  const api = async (method: string, path: string, body?: unknown) => {
    const running = ensemble as EnsembleProcess;
    const response = await fetch(`${running.url}${path}`, {
      method,
      headers: { ...running.auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, text, body: text === '' ? undefined : JSON.parse(text) };
  };
  const job = async (id: string) => (await api('GET', `/api/jobs/${id}`)).body as JobJson;
  const waitFor = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 300_000, everyMs = 100) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  };
  const vectorCount = async () => (await api('GET', '/api/collections/shelf')).body.vectorCount as number;
  const matchesOf = async (documentId: string) =>
    (await api('POST', '/api/collections/shelf/search', { text: 'bicycle', topK: 5, filter: { documentId } })).body
      .matches.length as number;
  const submit = async (id: string, pages: number) => {
    const submitted = await api('POST', '/api/collections/shelf/documents', {
      id,
      type: 'application/pdf',
      base64: Buffer.from(await bookOf(pages, id)).toString('base64'),
      chunkSize: 500,
      chunkOverlap: 0,
    });
    assert.equal(submitted.status, 202, submitted.text);
    return submitted.body.jobId as string;
  };

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'ensemble-ingest-faults-'));
    await chmod(home, 0o755);
    await linkBuiltInArtifacts(join(home, 'artifacts'));
    database = await createTestDatabase('ingest_faults');
    upstream = await startFakeJobUpstream();
    env = {
      ENSEMBLE_HOME: home,
      DATABASE_URL: database.url,
      ENSEMBLE_BUILT_IN_MODELS: 'register',
      MODEL_HEALTH_INTERVAL_MS: '0',
      KAFKA_BROKERS: testKafkaBrokers().join(','),
      KAFKA_NAME_PREFIX: `${uniqueName('ingestfault').replaceAll('_', '-')}.`,
      KAFKA_TOPIC_PARTITIONS: '2',
    };
    ensemble = await spawnEnsemble(['start'], env);
    assert.equal((await api('POST', '/api/collections', { name: 'shelf', embeddingModel })).status, 201);
  });
  after(async () => {
    if (ensemble) assert.equal(await ensemble.stop(), 0, ensemble.output());
    await database?.drop();
    await upstream?.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('a process killed mid-document: delivered again, each chunk once, progress counted once', async (t) => {
    const pages = 1_500;
    const jobId = await submit('atlas', pages);
    const atKill = await waitFor(
      'chunks stored before the kill',
      async () => {
        const current = await job(jobId);
        return current.progress.done > 0 ? current : undefined;
      },
      300_000,
      20,
    );
    await (ensemble as EnsembleProcess).stop('SIGKILL');
    const killedAt = Date.now();
    assert.ok(atKill.progress.done < pages, `killed mid-document: ${JSON.stringify(atKill.progress)}`);

    ensemble = await spawnEnsemble(['start'], env);
    const ended = await waitFor('the job to end after the restart', async () => {
      const current = await job(jobId);
      return current.status === 'running' || current.status === 'queued' ? undefined : current;
    });
    const tookMs = Date.now() - killedAt;
    assert.equal(ended.status, 'completed', JSON.stringify(ended));
    assert.deepEqual(ended.progress, { unit: 'chunks', done: pages, total: pages }, 'counted once');
    assert.equal(await vectorCount(), pages, 'each chunk once');
    const found = await api('POST', '/api/collections/shelf/search', { text: 'volcanic eruption', topK: 1 });
    assert.equal(found.body.matches[0].id, 'atlas#500');
    // Every progress event of the job stayed within its total, across both deliveries.
    const running = ensemble as EnsembleProcess;
    const events = await readSse(await fetch(`${running.url}/api/jobs/${jobId}/events`, { headers: running.auth }));
    const progressed = events
      .filter((event) => event.event === 'job.progressed')
      .map((event) => event.data as { progress?: { done: number; total: number } });
    assert.ok(progressed.length > 2, `${progressed.length} progress events`);
    for (const data of progressed)
      assert.ok((data.progress?.done ?? 0) <= (data.progress?.total ?? 0), JSON.stringify(data.progress));
    for (const data of progressed) assert.ok((data.progress?.total ?? 0) <= pages, JSON.stringify(data.progress));
    t.diagnostic(
      `killed at ${atKill.progress.done}/${atKill.progress.total} chunks; restart → job completed in ${tookMs} ms`,
    );
  });

  it('a cancelled ingestion removes the chunks it wrote; the job says so', async (t) => {
    const before = await vectorCount();
    const jobId = await submit('tome', 1_000);
    await waitFor('chunks stored', async () => ((await job(jobId)).progress.done > 0 ? true : undefined), 300_000, 20);
    assert.ok((await matchesOf('tome')) > 0, 'the first chunks were searchable');
    const cancelledAt = Date.now();
    assert.equal((await api('POST', `/api/jobs/${jobId}/cancel`)).status, 200);
    await waitFor('the chunks to be removed', async () => ((await matchesOf('tome')) === 0 ? true : undefined), 30_000);
    const tookMs = Date.now() - cancelledAt;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    assert.equal(await matchesOf('tome'), 0, 'none written after the removal');
    assert.equal(await vectorCount(), before);
    const cancelled = await job(jobId);
    assert.equal(cancelled.status, 'cancelled');
    assert.equal(cancelled.progress.done, 0, `no chunk of it stored: ${JSON.stringify(cancelled.progress)}`);
    t.diagnostic(`cancel → chunks gone in ${tookMs} ms`);
  });

  it('a document that fails mid-way is removed; its error is the item result', async () => {
    // Embeddings from the fake upstream, which refuses (400, not retried) any batch with a FAIL text.
    const model = await api('POST', '/api/models', {
      name: 'fake/embedder',
      kind: 'embedding',
      provider: 'openai-compatible',
      providerModelId: 'fake-embedding',
      baseUrl: upstream.baseUrl,
    });
    assert.equal(model.status, 201, model.text);
    const collection = await api('POST', '/api/collections', { name: 'fragile', embeddingModel: 'fake/embedder' });
    assert.equal(collection.status, 201, collection.text);
    // One chunk per page, embedded 64 at a time: pages 0–191 are stored before the batch with page 200 fails.
    const pdf = await makePdf(
      Array.from({ length: 400 }, (_, page) => [page === 200 ? 'FAIL on this page.' : `Quiet page ${page}.`]),
    );
    const submitted = await api('POST', '/api/collections/fragile/documents', {
      id: 'brittle',
      type: 'application/pdf',
      base64: Buffer.from(pdf).toString('base64'),
      chunkSize: 500,
      chunkOverlap: 0,
    });
    assert.equal(submitted.status, 202, submitted.text);
    const jobId = submitted.body.jobId as string;
    const ended = await waitFor('the job to end', async () => {
      const current = await job(jobId);
      return current.status === 'running' || current.status === 'queued' ? undefined : current;
    });
    assert.equal(ended.status, 'completed_with_errors', JSON.stringify(ended));
    assert.deepEqual(ended.progress, { unit: 'chunks', done: 0, total: 400 }, 'none of it stored');
    const running = ensemble as EnsembleProcess;
    const events = await readSse(await fetch(`${running.url}/api/jobs/${jobId}/events`, { headers: running.auth }));
    const dones = events
      .filter((event) => event.event === 'job.progressed')
      .map((event) => (event.data as { progress?: { done: number } }).progress?.done ?? 0);
    assert.ok(Math.max(...dones) >= 192, `chunks were stored before the failure: ${dones.join(',')}`);
    assert.equal((await api('GET', '/api/collections/fragile')).body.vectorCount, 0, 'and removed after it');
    const results = await api('GET', `/api/jobs/${jobId}/results`);
    const [line] = results.text.trim().split('\n');
    const result = JSON.parse(line as string) as { status: string; error: { code: string } };
    assert.equal(result.status, 'failed');
    assert.equal(result.error.code, 'upstream_bad_request');
  });

  it('a document ingested in the request that fails mid-way is removed too', async () => {
    // 700 one-line chunks, upserted 500 at a time in the request: the first 500 are written, then the
    // batch with line 600 is refused.
    const text = Array.from({ length: 700 }, (_, line) =>
      line === 600 ? `FAIL ${'x'.repeat(40)}` : `Quiet line ${line} ${'x'.repeat(40)}`,
    ).join('\n\n');
    const before = (await api('GET', '/api/collections/fragile')).body.vectorCount as number;
    const answered = await api('POST', '/api/collections/fragile/documents?wait=true', {
      id: 'inline',
      type: 'text/plain',
      text,
      chunkSize: 60,
      chunkOverlap: 0,
    });
    assert.equal(answered.status, 400, answered.text);
    assert.equal(answered.body.error.code, 'upstream_bad_request', answered.text);
    const embedded = [...upstream.answered.keys()].filter((key) => key.startsWith('Quiet line')).length;
    assert.ok(embedded >= 500, `a first batch was embedded (and written) before the failure: ${embedded}`);
    assert.equal((await api('GET', '/api/collections/fragile')).body.vectorCount, before, 'nothing of it left');
  });
});
