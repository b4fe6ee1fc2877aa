// Ensemble's Pinecone-compatible API against the official SDKs, on a real spawned `ensemble start`:
// the latest SDK (9.x, API 2026-07), SDK 5.1.2 (API 2025-01) with LangChain's PineconeStore, and the
// VectorStore contract run on Ensemble's Pinecone adapter pointed at this API.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Pinecone as LatestPinecone, PineconeVectorStore } from '@ensemble/adapters/pinecone';
import { createTestDatabase, type TestDatabase } from '@ensemble/testkit';
import { describeVectorStoreContract } from '@ensemble/testkit/vector-store-contract';
import { Document } from '@langchain/core/documents';
import { Embeddings } from '@langchain/core/embeddings';
import { PineconeStore } from '@langchain/pinecone';
import { Pinecone as PineconeV5 } from '@pinecone-database/pinecone';
import { type EnsembleProcess, spawnEnsemble, testAdminKey } from '../testing/ensemble-process.ts';

/** A small deterministic embedding (letter counts, normalised): enough to rank texts by shared words. */
class LetterEmbeddings extends Embeddings {
  constructor() {
    super({});
  }
  async embedDocuments(texts: string[]): Promise<number[][]> {
    return texts.map((text) => letters(text));
  }
  async embedQuery(text: string): Promise<number[]> {
    return letters(text);
  }
}

function letters(text: string): number[] {
  const counts = new Array<number>(26).fill(0);
  for (const ch of text.toLowerCase()) {
    const code = ch.charCodeAt(0) - 97;
    if (code >= 0 && code < 26) counts[code] = (counts[code] as number) + 1;
  }
  return counts;
}

let ensemble: EnsembleProcess;
let database: TestDatabase;
let home: string;

before(async () => {
  database = await createTestDatabase('pinecone_api');
  home = await mkdtemp(join(tmpdir(), 'ensemble-pinecone-'));
  ensemble = await spawnEnsemble(['start', '--no-worker'], { DATABASE_URL: database.url, ENSEMBLE_HOME: home });
});

after(async () => {
  await ensemble?.stop();
  await database?.drop();
  if (home) await rm(home, { recursive: true, force: true });
});

describe('Pinecone SDK (latest) against Ensemble', { timeout: 120_000 }, () => {
  it('creates, describes, lists, writes, queries, updates, deletes, lists ids and counts', async () => {
    const pc = new LatestPinecone({
      apiKey: testAdminKey,
      controllerHostUrl: `${ensemble.url}/pinecone`,
      maxRetries: 0,
    });
    await pc.createIndex({
      name: 'movies',
      dimension: 4,
      metric: 'cosine',
      spec: { serverless: { cloud: 'aws', region: 'us-east-1' } },
      waitUntilReady: true,
    });
    const described = await pc.describeIndex('movies');
    assert.equal(described.dimension, 4);
    assert.equal(described.metric, 'cosine');
    assert.equal(described.host, `${ensemble.url}/pinecone/data/movies`);
    assert.equal(described.status.ready, true);
    assert.deepEqual(
      (await pc.listIndexes()).indexes?.map((i) => i.name),
      ['movies'],
    );

    const index = pc.index({ name: 'movies' });
    await index.upsert({
      records: [
        { id: 'm1', values: [1, 0, 0, 0], metadata: { genre: 'comedy', year: 2019 } },
        { id: 'm2', values: [0.9, 0.1, 0, 0], metadata: { genre: 'drama', year: 2021 } },
        { id: 'm3', values: [0, 1, 0, 0], metadata: { genre: 'comedy', year: 2023, tags: ['new'] } },
      ],
    });
    await index.namespace('kids').upsert({ records: [{ id: 'k1', values: [1, 0, 0, 0] }] });

    const all = await index.query({ vector: [1, 0, 0, 0], topK: 3, includeMetadata: true });
    assert.deepEqual(
      all.matches.map((m) => m.id),
      ['m1', 'm2', 'm3'],
    );
    assert.equal(all.matches[0]?.metadata?.genre, 'comedy');
    const filtered = await index.query({
      vector: [1, 0, 0, 0],
      topK: 3,
      filter: { genre: { $eq: 'comedy' }, year: { $gte: 2020 } },
    });
    assert.deepEqual(
      filtered.matches.map((m) => m.id),
      ['m3'],
    );
    const byId = await index.query({ id: 'm2', topK: 1, includeValues: true });
    assert.equal(byId.matches[0]?.id, 'm2');
    assert.ok(Math.abs((byId.matches[0]?.values?.[0] ?? 0) - 0.9) < 1e-6);
    const kids = await index.namespace('kids').query({ vector: [1, 0, 0, 0], topK: 5 });
    assert.deepEqual(
      kids.matches.map((m) => m.id),
      ['k1'],
    );

    const fetched = await index.fetch({ ids: ['m1', 'nope'] });
    assert.deepEqual(Object.keys(fetched.records), ['m1']);
    assert.deepEqual(fetched.records.m1?.metadata, { genre: 'comedy', year: 2019 });

    await index.update({ id: 'm1', metadata: { genre: 'satire' } });
    assert.equal((await index.fetch({ ids: ['m1'] })).records.m1?.metadata?.genre, 'satire');

    const page = await index.listPaginated({ prefix: 'm', limit: 2 });
    assert.deepEqual(
      page.vectors?.map((v) => v.id),
      ['m1', 'm2'],
    );
    const rest = await index.listPaginated({ prefix: 'm', limit: 2, paginationToken: page.pagination?.next as string });
    assert.deepEqual(
      rest.vectors?.map((v) => v.id),
      ['m3'],
    );

    const stats = await index.describeIndexStats();
    assert.equal(stats.totalRecordCount, 4);
    assert.equal(stats.dimension, 4);
    assert.equal(stats.namespaces?.kids?.recordCount, 1);

    await index.deleteMany({ ids: ['m2'] });
    await index.deleteMany({ filter: { genre: 'comedy' } });
    assert.deepEqual(
      (await index.query({ vector: [1, 0, 0, 0], topK: 5 })).matches.map((m) => m.id),
      ['m1'],
    );
    await index.namespace('kids').deleteAll();
    assert.equal((await index.describeIndexStats()).totalRecordCount, 1);

    await assert.rejects(index.upsert({ records: [{ id: 'bad', values: [1, 2] }] }), (error: Error) => {
      assert.equal(error.name, 'PineconeBadRequestError');
      assert.match(error.message, /dimension 2.*dimension 4/);
      return true;
    });
    await assert.rejects(
      index.query({ vector: [1, 0, 0, 0], topK: 1, filter: { genre: { $like: 'x' } } }),
      (error: Error) => {
        assert.equal(error.name, 'PineconeBadRequestError');
        assert.match(error.message, /\$like/);
        return true;
      },
    );
    await assert.rejects(
      pc.createIndex({
        name: 'movies',
        dimension: 4,
        metric: 'cosine',
        spec: { serverless: { cloud: 'aws', region: 'us-east-1' } },
      }),
      (error: Error) => error.name === 'PineconeConflictError',
    );
    await assert.rejects(pc.describeIndex('absent'), (error: Error) => error.name === 'PineconeNotFoundError');
    const wrongKey = new LatestPinecone({
      apiKey: 'ens_wrong',
      controllerHostUrl: `${ensemble.url}/pinecone`,
      maxRetries: 0,
    });
    await assert.rejects(wrongKey.listIndexes(), (error: Error) => error.name === 'PineconeAuthorizationError');

    await pc.deleteIndex('movies');
    await assert.rejects(pc.describeIndex('movies'), (error: Error) => error.name === 'PineconeNotFoundError');
  });

  it('describes an index in the 2026-07 shape and in the 2025-01 shape by the version asked for', async () => {
    const headers = { 'api-key': testAdminKey, 'content-type': 'application/json' };
    const create = await fetch(`${ensemble.url}/pinecone/indexes`, {
      method: 'POST',
      headers: { ...headers, 'x-pinecone-api-version': '2026-07' },
      body: JSON.stringify({
        name: 'shapes',
        schema: { fields: { _values: { type: 'dense_vector', dimension: 3, metric: 'dotproduct' } } },
        deployment: { deployment_type: 'managed', cloud: 'aws', region: 'us-east-1' },
      }),
    });
    assert.equal(create.status, 201);
    const modern = (await create.json()) as Record<string, unknown>;
    assert.deepEqual(modern.schema, {
      fields: { _values: { type: 'dense_vector', dimension: 3, metric: 'dotproduct' } },
    });
    assert.equal(modern.dimension, undefined);
    const legacy = (await (
      await fetch(`${ensemble.url}/pinecone/indexes/shapes`, {
        headers: { ...headers, 'x-pinecone-api-version': '2025-01' },
      })
    ).json()) as Record<string, unknown>;
    assert.equal(legacy.dimension, 3);
    assert.equal(legacy.metric, 'dotproduct');
    assert.deepEqual(legacy.spec, { serverless: { cloud: 'aws', region: 'us-east-1' } });
    const missing = await fetch(`${ensemble.url}/pinecone/indexes/none-here`, { headers });
    assert.equal(missing.status, 404);
    assert.deepEqual(((await missing.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');
    const badData = await fetch(`${ensemble.url}/pinecone/data/shapes/query`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ topK: 0, vector: [1, 2, 3] }),
    });
    assert.equal(badData.status, 400);
    const body = (await badData.json()) as { code: number; message: string };
    assert.equal(body.code, 3);
    assert.match(body.message, /topK/);
    const empty = await fetch(`${ensemble.url}/pinecone/data/shapes/query`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ topK: 3, vector: [1, 2, 3], namespace: '__default__' }),
    });
    assert.deepEqual(((await empty.json()) as { matches: unknown[] }).matches, []);
  });
});

describe('Pinecone SDK 5.1.2 and LangChain PineconeStore against Ensemble', { timeout: 120_000 }, () => {
  it('adds documents and finds them with similaritySearch, with and without a filter', async () => {
    const pc = new PineconeV5({ apiKey: testAdminKey, controllerHostUrl: `${ensemble.url}/pinecone`, maxRetries: 0 });
    await pc.createIndex({
      name: 'langchain',
      dimension: 26,
      metric: 'cosine',
      spec: { serverless: { cloud: 'aws', region: 'us-east-1' } },
      waitUntilReady: true,
    });
    assert.equal((await pc.describeIndex('langchain')).dimension, 26);
    const store = await PineconeStore.fromExistingIndex(new LetterEmbeddings(), {
      pineconeIndex: pc.Index('langchain'),
    });
    await store.addDocuments(
      [
        new Document({ pageContent: 'zebra zebra zoo', metadata: { kind: 'animal' } }),
        new Document({ pageContent: 'apple banana cake', metadata: { kind: 'food' } }),
        new Document({ pageContent: 'quiz quartz quick', metadata: { kind: 'word' } }),
      ],
      { ids: ['z', 'a', 'q'] },
    );
    const [top] = await store.similaritySearch('a zebra at the zoo', 1);
    assert.equal(top?.pageContent, 'zebra zebra zoo');
    assert.equal(top?.metadata.kind, 'animal');
    const [food] = await store.similaritySearch('a zebra at the zoo', 1, { kind: 'food' });
    assert.equal(food?.pageContent, 'apple banana cake');
    const stats = await pc.Index('langchain').describeIndexStats();
    assert.equal(stats.totalRecordCount, 3);
    await store.delete({ ids: ['q'] });
    assert.equal((await pc.Index('langchain').describeIndexStats()).totalRecordCount, 2);
    await pc.deleteIndex('langchain');
  });
});

describeVectorStoreContract(
  'pinecone (official SDK against Ensemble)',
  async () => ({
    store: new PineconeVectorStore({ apiKey: testAdminKey, controllerHostUrl: `${ensemble.url}/pinecone` }),
    cleanup: async () => {},
  }),
  (name) => name.slice(0, 45).replace(/-+$/, ''),
);
