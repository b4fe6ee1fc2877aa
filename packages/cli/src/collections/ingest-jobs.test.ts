// Document ingestion as `embed` jobs through `ensemble start` (real server, PostgreSQL, the embedded
// bus and Kafka, the built-in MiniLM embeddings): a 1,000-page PDF made here is parsed off the event
// loop while the server keeps answering, its progress streams as job events, and its chunks are
// searchable at the end; cancelling stops a running ingestion; documents named by URL are fetched
// through the SSRF guard from a local server the configuration allows (127.0.0.2), and internal
// addresses are refused naming the field.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makePdf } from '@ensemble/adapters/documents/testing';
import { testKafkaBrokers, uniqueName } from '@ensemble/testkit';
import { main } from '../main.ts';
import { linkBuiltInArtifacts } from '../testing/built-in-artifacts.ts';
import { type EnsembleProcess, spawnEnsemble } from '../testing/ensemble-process.ts';
import { readSse } from '../testing/read-sse.ts';

const embeddingModel = 'local/all-minilm-l6-v2@1';

/** 1,000 pages, one short sentence each; page 500 alone is about volcanoes. */
async function bookOf(pages: number): Promise<Uint8Array> {
  return makePdf(
    Array.from({ length: pages }, (_, page) =>
      page === 500
        ? ['A volcano erupts molten lava and ash through a crack in the crust.']
        : [`Page ${page} of the bicycle workshop log: tyres pumped and chain oiled.`],
    ),
  );
}

/** Answers as parsed JSON: the assertions below say what they expect of them. */
type Json = ReturnType<typeof JSON.parse>;

type Api = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: Json; text: string }>;

function apiOf(ensemble: () => EnsembleProcess): Api {
  return async (method, path, body) => {
    const response = await fetch(`${ensemble().url}${path}`, {
      method,
      headers: { ...ensemble().auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    const json = response.headers.get('content-type')?.includes('json') === true && text !== '';
    return { status: response.status, text, body: json ? JSON.parse(text) : undefined };
  };
}

async function waitForJob(api: Api, jobId: string, timeoutMs = 300_000): Promise<Json> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = (await api('GET', `/api/jobs/${jobId}`)).body;
    if (['completed', 'completed_with_errors', 'cancelled'].includes(job.status)) return job;
    assert.ok(Date.now() < deadline, `job ${jobId} did not end: ${JSON.stringify(job)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function startEnsemble(home: string, env: Record<string, string>): Promise<EnsembleProcess> {
  await chmod(home, 0o755);
  await linkBuiltInArtifacts(join(home, 'artifacts'));
  return spawnEnsemble(['start'], {
    ENSEMBLE_HOME: home,
    // Registered, loaded on first use: only MiniLM is needed here.
    ENSEMBLE_BUILT_IN_MODELS: 'register',
    MODEL_HEALTH_INTERVAL_MS: '0',
    ...env,
  });
}

describe('document ingestion as jobs (embedded bus)', { timeout: 900_000 }, () => {
  let home: string;
  let ensemble: EnsembleProcess;
  let files: Server;
  let filesPort = 0;
  const api = apiOf(() => ensemble);

  before(async () => {
    // The documents server listens on 127.0.0.2, the one internal address the configuration allows.
    files = createServer((request, response) => {
      if (request.url === '/guide.md') {
        response.writeHead(200, { 'content-type': 'text/markdown; charset=utf-8' });
        response.end('# Greenhouse guide\n\nOrchids need bright indirect light and weekly watering.');
      } else if (request.url === '/manual') {
        void makePdf([['Telescope manual.'], ['Collimate the mirrors before observing faint galaxies.']]).then(
          (pdf) => {
            response.writeHead(200, { 'content-type': 'application/octet-stream' });
            response.end(Buffer.from(pdf));
          },
        );
      } else if (request.url === '/to-loopback') {
        response.writeHead(302, { location: `http://127.0.0.1:${filesPort}/guide.md` });
        response.end();
      } else if (request.url === '/huge') {
        response.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(3_000_000) });
        response.end('x'.repeat(3_000_000));
      } else {
        response.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.2', resolve));
    filesPort = (files.address() as { port: number }).port;
    home = await mkdtemp(join(tmpdir(), 'ensemble-ingest-jobs-'));
    ensemble = await startEnsemble(home, {
      OUTBOUND_ALLOWED_NETWORKS: '127.0.0.2/32',
      INGEST_URL_MAX_BYTES: '2000000',
    });
    const created = await api('POST', '/api/collections', { name: 'library', embeddingModel });
    assert.equal(created.status, 201, created.text);
  });

  after(async () => {
    if (ensemble) assert.equal(await ensemble.stop(), 0, ensemble.output());
    files?.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('ingests a 1,000-page PDF as a job with chunk progress while the server keeps answering', async (t) => {
    const pdf = Buffer.from(await bookOf(1_000)).toString('base64');
    const submitted = await api('POST', '/api/collections/library/documents', {
      id: 'book',
      source: 'book.pdf',
      type: 'application/pdf',
      base64: pdf,
      chunkSize: 500,
      chunkOverlap: 0,
    });
    assert.equal(submitted.status, 202, submitted.text);
    assert.equal(submitted.body.object, 'ingestion');
    assert.equal(submitted.body.documentId, 'book');
    const jobId = submitted.body.jobId as string;

    // Meanwhile the API answers: /healthz, sequentially, each within the bound.
    let slowest = 0;
    let probes = 0;
    let running = true;
    const probing = (async () => {
      while (running) {
        const started = performance.now();
        const health = await fetch(`${ensemble.url}/healthz`);
        await health.arrayBuffer();
        slowest = Math.max(slowest, performance.now() - started);
        probes++;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const events = await readSse(await fetch(`${ensemble.url}/api/jobs/${jobId}/events`, { headers: ensemble.auth }));
    running = false;
    await probing;

    const job = await waitForJob(api, jobId);
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.equal(job.type, 'embed');
    assert.equal(job.source, 'ingest');
    assert.deepEqual(job.counts, { total: 1, succeeded: 1, failed: 0, pending: 0 });
    assert.deepEqual(job.progress, { unit: 'chunks', done: 1_000, total: 1_000 });
    assert.equal(job.target.name, 'local/all-minilm-l6-v2');
    t.diagnostic(`/healthz: ${probes} probes, slowest ${Math.round(slowest)} ms`);
    assert.ok(probes >= 5, `probed ${probes} times`);
    assert.ok(slowest < 1_000, `/healthz took ${Math.round(slowest)} ms at worst during the ingestion`);

    // Progress streamed as events: chunks known once parsed, then done growing to 1,000.
    const progressed = events
      .filter((event) => event.event === 'job.progressed')
      .map((event) => event.data as { progress: { done: number; total: number } });
    assert.ok(progressed.length >= 10, `${progressed.length} progress events`);
    const dones = progressed.map((data) => data.progress.done);
    assert.deepEqual(
      dones,
      [...dones].sort((a, b) => a - b),
      'done only grows',
    );
    assert.ok(progressed.some((data) => data.progress.total === 1_000 && data.progress.done < 1_000));
    assert.equal(events.at(-1)?.event, 'job.completed');

    const results = await api('GET', `/api/jobs/${jobId}/results`);
    const [line] = results.text.trim().split('\n');
    assert.deepEqual(JSON.parse(line as string).output, { documentId: 'book', chunks: 1_000, removed: 0 });
    assert.equal((await api('GET', '/api/collections/library')).body.vectorCount, 1_000);
    const found = await api('POST', '/api/collections/library/search', {
      text: 'lava from an erupting volcano',
      topK: 1,
    });
    assert.equal(found.body.matches[0].id, 'book#500');
    assert.equal(found.body.matches[0].metadata.source, 'book.pdf');

    // Re-ingesting replaces the chunks (a job too); deleting removes them.
    const again = await api('POST', '/api/collections/library/documents', {
      id: 'book',
      type: 'application/pdf',
      base64: Buffer.from(await bookOf(10)).toString('base64'),
    });
    assert.equal(again.status, 202, again.text);
    const replaced = await waitForJob(api, again.body.jobId);
    assert.equal(replaced.status, 'completed');
    const replacedLine = (await api('GET', `/api/jobs/${again.body.jobId}/results`)).text.trim();
    assert.deepEqual(JSON.parse(replacedLine).output, { documentId: 'book', chunks: 10, removed: 990 });
    assert.equal((await api('GET', '/api/collections/library')).body.vectorCount, 10);
    const deleted = await api('DELETE', '/api/collections/library/documents/book');
    assert.deepEqual(deleted.body, { documentId: 'book', removed: 10 });
  });

  it('keeps small inline texts (and wait=true) in the request; a bad PDF fails its job with the reason', async () => {
    const small = await api('POST', '/api/collections/library/documents', {
      id: 'note',
      type: 'text/plain',
      text: 'Sourdough needs an active starter.',
    });
    assert.equal(small.status, 200, small.text);
    assert.deepEqual(small.body, { documentId: 'note', chunks: 1, removed: 0 });
    const waited = await api('POST', '/api/collections/library/documents?wait=true', {
      id: 'leaflet',
      type: 'application/pdf',
      base64: Buffer.from(await makePdf([['One page.'], ['Two pages.']])).toString('base64'),
    });
    assert.equal(waited.status, 200, waited.text);
    assert.equal(waited.body.chunks, 2);

    const bad = await api('POST', '/api/collections/library/documents', {
      id: 'broken',
      type: 'application/pdf',
      base64: Buffer.from('not a pdf at all').toString('base64'),
    });
    assert.equal(bad.status, 202, bad.text);
    const failed = await waitForJob(api, bad.body.jobId);
    assert.equal(failed.status, 'completed_with_errors');
    const line = JSON.parse((await api('GET', `/api/jobs/${bad.body.jobId}/results`)).text.trim());
    assert.equal(line.error.code, 'validation_failed');
    assert.match(line.error.message, /not a PDF/);
    const overlap = await api('POST', '/api/collections/library/documents', {
      id: 'x',
      type: 'application/pdf',
      base64: Buffer.from('x').toString('base64'),
      chunkSize: 100,
      chunkOverlap: 100,
    });
    assert.equal(overlap.status, 400);
    assert.match(overlap.body.error.message, /^body\.chunkOverlap/);
  });

  it('cancelling a running ingestion stops it', async () => {
    const submitted = await api('POST', '/api/collections/library/documents', {
      id: 'tome',
      type: 'application/pdf',
      base64: Buffer.from(await bookOf(1_000)).toString('base64'),
      chunkSize: 500,
      chunkOverlap: 0,
    });
    assert.equal(submitted.status, 202, submitted.text);
    const jobId = submitted.body.jobId as string;
    const deadline = Date.now() + 300_000;
    for (;;) {
      const job = (await api('GET', `/api/jobs/${jobId}`)).body;
      if (job.progress.done > 0) break;
      assert.ok(Date.now() < deadline && job.status !== 'completed', JSON.stringify(job));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const cancelled = await api('POST', `/api/jobs/${jobId}/cancel`);
    assert.equal(cancelled.status, 200, cancelled.text);
    const count = async () =>
      ((
        await api('POST', '/api/collections/library/search', {
          text: 'bicycle',
          topK: 1,
          filter: { documentId: 'tome' },
        })
      ).body.matches.length as number) > 0
        ? (await api('GET', '/api/collections/library')).body.vectorCount
        : 0;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const settled = await count();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    assert.equal(await count(), settled, 'nothing is written after the cancellation settled');
    const job = (await api('GET', `/api/jobs/${jobId}`)).body;
    assert.equal(job.status, 'cancelled');
    assert.ok(job.progress.done < 1_000, JSON.stringify(job.progress));
    await api('DELETE', '/api/collections/library/documents/tome');
  });

  it('ensemble ingest follows a job-ingested file with its chunk progress', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ensemble-ingest-cli-'));
    await writeFile(join(dir, 'note.md'), '# Note\n\nFeed the cat twice a day.');
    await writeFile(join(dir, 'log.pdf'), await bookOf(30));
    const printed: string[] = [];
    const progress: string[] = [];
    const { write } = process.stdout;
    const writeErr = process.stderr.write;
    process.stdout.write = ((chunk: string) => printed.push(chunk) > 0) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string) => progress.push(chunk) > 0) as typeof process.stderr.write;
    try {
      await main([
        'node',
        'ensemble',
        'ingest',
        'library',
        join(dir, 'note.md'),
        join(dir, 'log.pdf'),
        '--chunk-size',
        '500',
        '--chunk-overlap',
        '0',
        '--url',
        ensemble.url,
        '--api-key',
        ensemble.adminKey as string,
      ]);
    } finally {
      process.stdout.write = write;
      process.stderr.write = writeErr;
      await rm(dir, { recursive: true, force: true });
    }
    assert.equal(process.exitCode ?? 0, 0, progress.join(''));
    assert.deepEqual(
      printed.map((line) => JSON.parse(line)),
      [
        { file: join(dir, 'note.md'), documentId: 'note.md', chunks: 1 },
        { file: join(dir, 'log.pdf'), documentId: 'log.pdf', chunks: 30 },
      ],
    );
    // The PDF went as a job: its bar counts chunks from the job's events, up to 30/30.
    assert.match(progress.join(''), /job_\w+ completed .*100% 30\/30/);
    assert.match(progress.join(''), /2\/2 files, 31 chunks/);
    await api('DELETE', '/api/collections/library/documents/log.pdf');
    await api('DELETE', '/api/collections/library/documents/note.md');
  });

  it('fetches documents by URL through the SSRF guard, detecting their type', async () => {
    const guide = await api('POST', '/api/collections/library/documents', {
      id: 'guide',
      url: `http://127.0.0.2:${filesPort}/guide.md`,
    });
    assert.equal(guide.status, 202, guide.text);
    const manual = await api('POST', '/api/collections/library/documents', {
      id: 'manual',
      url: `http://127.0.0.2:${filesPort}/manual`,
      chunkSize: 200,
      chunkOverlap: 0,
    });
    assert.equal(manual.status, 202, manual.text);
    assert.equal((await waitForJob(api, guide.body.jobId)).status, 'completed');
    assert.equal((await waitForJob(api, manual.body.jobId)).status, 'completed');
    const orchids = await api('POST', '/api/collections/library/search', { text: 'how to water orchids', topK: 1 });
    assert.equal(orchids.body.matches[0].metadata.documentId, 'guide');
    assert.equal(orchids.body.matches[0].metadata.source, `http://127.0.0.2:${filesPort}/guide.md`);
    const galaxies = await api('POST', '/api/collections/library/search', {
      text: 'aligning telescope mirrors',
      topK: 1,
    });
    assert.equal(galaxies.body.matches[0].id, 'manual#1', 'a PDF by its signature, page by page');

    const refused = [
      `http://127.0.0.1:${filesPort}/guide.md`,
      'http://169.254.169.254/latest/meta-data/',
      `http://[::1]:${filesPort}/guide.md`,
      `http://127.0.0.2:${filesPort}/to-loopback`,
    ];
    for (const url of refused) {
      const answer = await api('POST', '/api/collections/library/documents', { id: 'ssrf', url });
      assert.equal(answer.status, 400, `${url}: ${answer.text}`);
      assert.match(answer.body.error.message, /^body\.url: .*internal address/, url);
    }
    const tooBig = await api('POST', '/api/collections/library/documents', {
      id: 'huge',
      url: `http://127.0.0.2:${filesPort}/huge`,
    });
    assert.equal(tooBig.status, 400, tooBig.text);
    assert.match(tooBig.body.error.message, /^body\.url: .*limit/);
    const missing = await api('POST', '/api/collections/library/documents', {
      id: 'gone',
      url: `http://127.0.0.2:${filesPort}/nothing-here`,
    });
    assert.equal(missing.status, 400);
    assert.match(missing.body.error.message, /^body\.url: the server answered 404/);
    const ftp = await api('POST', '/api/collections/library/documents', { id: 'f', url: 'ftp://example.com/a.txt' });
    assert.equal(ftp.status, 400);
    assert.match(ftp.body.error.message, /url/);
  });
});

describe('document ingestion as jobs (Kafka)', { timeout: 600_000 }, () => {
  let home: string;
  let ensemble: EnsembleProcess;
  const api = apiOf(() => ensemble);

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'ensemble-ingest-kafka-'));
    ensemble = await startEnsemble(home, {
      KAFKA_BROKERS: testKafkaBrokers().join(','),
      KAFKA_NAME_PREFIX: `${uniqueName('ingest').replaceAll('_', '-')}.`,
      KAFKA_TOPIC_PARTITIONS: '2',
    });
  });
  after(async () => {
    if (ensemble) assert.equal(await ensemble.stop(), 0, ensemble.output());
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('runs the same job through the Kafka documents topic', async () => {
    assert.equal((await api('POST', '/api/collections', { name: 'shelf', embeddingModel })).status, 201);
    const submitted = await api('POST', '/api/collections/shelf/documents', {
      id: 'atlas',
      type: 'application/pdf',
      base64: Buffer.from(await bookOf(600)).toString('base64'),
      chunkSize: 500,
      chunkOverlap: 0,
    });
    assert.equal(submitted.status, 202, submitted.text);
    const job = await waitForJob(api, submitted.body.jobId);
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.deepEqual(job.progress, { unit: 'chunks', done: 600, total: 600 });
    assert.equal((await api('GET', '/api/collections/shelf')).body.vectorCount, 600);
    const found = await api('POST', '/api/collections/shelf/search', { text: 'volcanic eruption', topK: 1 });
    assert.equal(found.body.matches[0].id, 'atlas#500');
  });
});
