import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase, testKafkaBrokers, uniqueName, waitFor } from '@ensemble/testkit';
import { linkBuiltInArtifacts } from '../testing/built-in-artifacts.ts';
import { type EnsembleProcess, spawnEnsemble } from '../testing/ensemble-process.ts';

interface Match {
  id: string;
  score: number;
}
interface ResultLine {
  index: number;
  status: string;
  output: { runId: string; output: Match[] } | null;
  error: { code: string; message: string } | null;
}

// The production topology (an API `ensemble start --no-worker` and a separate `ensemble worker` on Kafka,
// one PostgreSQL): a collection on the embedded index is written through the API, and `pipeline-run`
// jobs whose pipeline retrieves from it run in the worker, which follows the API process's writes.
describe('retrieve steps in a separate ensemble worker', { timeout: 600_000 }, () => {
  let database: TestDatabase;
  let home: string;
  let server: EnsembleProcess;
  let worker: EnsembleProcess;
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { ...server.auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(120_000),
    });
    const text = await response.text();
    const json = response.headers.get('content-type')?.startsWith('application/json') === true;
    return { status: response.status, text, body: json && text !== '' ? JSON.parse(text) : undefined };
  };
  const ingest = async (id: string, text: string) => {
    const ingested = await api('POST', '/api/collections/garden/documents', { id, type: 'text/plain', text });
    assert.equal(ingested.status, 200, ingested.text);
  };
  /** One pipeline-run job, an item per question; each item's retrieved ids. */
  const retrieveInWorker = async (questions: string[]) => {
    const submitted = await api('POST', '/api/jobs', {
      type: 'pipeline-run',
      pipeline: 'find',
      retry: { maxAttempts: 1 },
      inputs: questions.map((q) => ({ input: { q } })),
    });
    assert.equal(submitted.status, 201, submitted.text);
    const id = submitted.body.id as string;
    const job = await waitFor(
      `job ${id} to end`,
      async () => {
        const current = (await api('GET', `/api/jobs/${id}`)).body as { status: string };
        return ['completed', 'failed', 'cancelled'].includes(current.status) ? current : undefined;
      },
      { timeoutMs: 300_000, intervalMs: 250 },
    );
    const lines = (await api('GET', `/api/jobs/${id}/results`)).text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as ResultLine)
      .sort((a, b) => a.index - b.index);
    assert.equal(job.status, 'completed', `${JSON.stringify(job)} ${JSON.stringify(lines)}`);
    return lines.map((line) => (line.output?.output ?? []).map((match) => match.id));
  };

  before(async () => {
    database = await createTestDatabase('worker_follow');
    home = await mkdtemp(join(tmpdir(), 'ensemble-worker-follow-'));
    await chmod(home, 0o755);
    await linkBuiltInArtifacts(join(home, 'artifacts'));
    const env = {
      ENSEMBLE_HOME: home,
      DATABASE_URL: database.url,
      ENSEMBLE_MASTER_KEY: 'A'.repeat(43).concat('='),
      // Registered, loaded on first use: only MiniLM is needed (by the API to ingest, by the worker to query).
      ENSEMBLE_BUILT_IN_MODELS: 'register',
      MODEL_HEALTH_INTERVAL_MS: '0',
      KAFKA_BROKERS: testKafkaBrokers().join(','),
      KAFKA_NAME_PREFIX: `${uniqueName('follow').replaceAll('_', '-')}.`,
    };
    server = await spawnEnsemble(['start', '--no-worker'], env);
    worker = await spawnEnsemble(['worker'], env, { waitForListening: false });
    await waitFor('the worker to run', () => /ensemble worker running/.test(worker.output()), { timeoutMs: 60_000 });
  });

  after(async () => {
    const codes = [await worker?.stop(), await server?.stop()];
    await database?.drop();
    if (home) await rm(home, { recursive: true, force: true });
    assert.deepEqual(codes, [0, 0], `${worker?.output()}\n---\n${server?.output()}`);
  });

  it("finds the right chunk, then sees the API's deletions and additions in its next job", async () => {
    const created = await api('POST', '/api/collections', {
      name: 'garden',
      embeddingModel: 'local/all-minilm-l6-v2',
    });
    assert.equal(created.status, 201, created.text);
    await ingest('orchids', 'Orchids need bright indirect light and a little water once a week.');
    await ingest('telescope', 'Collimate the telescope mirrors before observing faint galaxies at night.');
    await ingest('bread', 'Knead the bread dough for ten minutes and let it rise until doubled.');
    const pipeline = await api('POST', '/api/pipelines', {
      name: 'find',
      definition: {
        input: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] },
        steps: [{ id: 'hits', kind: 'retrieve', collection: 'garden', query: 'input.q', topK: 2 }],
      },
    });
    assert.equal(pipeline.status, 201, pipeline.text);

    const first = await retrieveInWorker([
      'how often should I water my orchid?',
      'aligning the mirrors of a telescope',
    ]);
    assert.equal(first[0]?.[0], 'orchids#0', JSON.stringify(first));
    assert.equal(first[1]?.[0], 'telescope#0', JSON.stringify(first));

    // Through the API (the writer): one document deleted, one added.
    const deleted = await api('DELETE', '/api/collections/garden/documents/orchids');
    assert.ok(deleted.status === 200 || deleted.status === 204, deleted.text);
    await ingest('cactus', 'A cactus stores water in its stem and needs watering only once a month.');
    const second = await retrieveInWorker(['how often should I water my orchid?', 'plants of the desert with spines']);
    assert.ok(!second.flat().includes('orchids#0'), `the deleted chunk is gone: ${JSON.stringify(second)}`);
    assert.equal(second[0]?.[0], 'cactus#0', JSON.stringify(second));
    assert.equal(second[1]?.[0], 'cactus#0', JSON.stringify(second));
    // The worker followed (its own graphs, caught up), it did not write.
    assert.match(worker.output(), /"following":true/);
  });
});
