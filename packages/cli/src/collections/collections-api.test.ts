// /api/collections end to end in one process: the real registry and PostgreSQL, the embedded vector
// store, and the built-in local MiniLM embeddings (offline) embedding texts for upserts and searches.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LangChainDocumentChunker } from '@ensemble/adapters/documents';
import { makePdf } from '@ensemble/adapters/documents/testing';
import { PineconeVectorStore } from '@ensemble/adapters/pinecone';
import { PostgresCollectionRepository } from '@ensemble/adapters/postgres';
import { EmbeddedVectorStore } from '@ensemble/adapters/vectors';
import {
  CollectionLangChainRetriever,
  CollectionRetriever,
  CollectionService,
  configSchema,
  ModelRuntimeManager,
  newModelVersionSchema,
  RuntimeTextEmbedder,
  silentLogger,
} from '@ensemble/core';
import { buildApp, collectionsModule, createLogger, type EnsembleApp, pineconeModule } from '@ensemble/server';
import { main } from '../main.ts';
import { modelProviders } from '../model-runtime/model-providers.ts';
import { registerBuiltInModels } from '../registry/register-built-in-models.ts';
import { systemClock } from '../runtime/system-clock.ts';
import { builtInArtifacts } from '../testing/built-in-artifacts.ts';
import { openTestRegistry, type TestRegistry } from '../testing/test-registry.ts';
import { documentTypeOf, ingestProgressLine } from './ingest-command.ts';

const embeddingModel = 'local/all-minilm-l6-v2';

const passages = [
  {
    id: 'cats',
    text: 'Cats are small domesticated carnivorous mammals that purr and chase mice.',
    metadata: { topic: 'animals' },
  },
  {
    id: 'rust',
    text: 'Rust is a systems programming language focused on memory safety without garbage collection.',
    metadata: { topic: 'programming' },
  },
  {
    id: 'bread',
    text: 'To bake sourdough bread you need flour, water, salt and an active starter.',
    metadata: { topic: 'cooking' },
  },
  {
    id: 'volcano',
    text: 'A volcano is a rupture in the crust of a planet where lava and ash escape.',
    metadata: { topic: 'geology' },
  },
  {
    id: 'dogs',
    text: 'Dogs are loyal domesticated animals kept as pets and working companions.',
    metadata: { topic: 'animals' },
  },
];

describe('/api/collections', { timeout: 600_000 }, () => {
  let registry: TestRegistry;
  let manager: ModelRuntimeManager;
  let store: EmbeddedVectorStore;
  let app: EnsembleApp;
  let snapshotDir: string;
  let headers: Record<string, string>;
  let collections: CollectionService;
  let url: string;

  const call = async (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown) => {
    const response = await app.inject({
      method,
      url,
      headers,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    return { status: response.statusCode, body: response.body === '' ? undefined : response.json() };
  };

  before(async () => {
    registry = await openTestRegistry('collections_api');
    headers = registry.keys.admin;
    manager = new ModelRuntimeManager({
      providers: modelProviders(await builtInArtifacts()),
      models: registry.models,
      revealCredential: (projectId, name) => registry.credentials.reveal(projectId, name),
      clock: systemClock,
      logger: silentLogger,
      healthIntervalMs: 0,
    });
    await registerBuiltInModels({ models: registry.models, logger: silentLogger });
    snapshotDir = await mkdtemp(join(tmpdir(), 'ensemble-collections-'));
    store = new EmbeddedVectorStore({ pool: registry.database.pool, snapshotDir });
    collections = new CollectionService({
      repository: new PostgresCollectionRepository(registry.database.pool),
      stores: { embedded: store },
      embedder: new RuntimeTextEmbedder(manager),
    });
    app = await buildApp({
      config: configSchema.parse({ log: { level: 'silent' } }),
      logger: createLogger({ level: 'silent' }),
      authenticator: registry.keys.store,
      checks: [],
      modules: [
        collectionsModule({ collections, chunker: new LangChainDocumentChunker() }),
        pineconeModule({ collections }),
      ],
    });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  });

  after(async () => {
    await app?.close();
    await store?.close();
    await manager?.close();
    await registry?.close();
    if (snapshotDir) await rm(snapshotDir, { recursive: true, force: true });
  });

  it('creates a collection pinned to its embedding model, upserts texts and finds the right one first', async () => {
    const created = await call('POST', '/api/collections', { name: 'docs', embeddingModel });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.dimension, 384);
    assert.deepEqual(created.body.embedding, { model: embeddingModel, version: 1 });
    assert.equal(created.body.backend, 'embedded');
    assert.equal(created.body.vectorCount, 0);

    const upserted = await call('POST', '/api/collections/docs/vectors', { records: passages });
    assert.equal(upserted.status, 200, JSON.stringify(upserted.body));
    assert.equal(upserted.body.upsertedCount, 5);

    const found = await call('POST', '/api/collections/docs/search', {
      text: 'how do I make a loaf of bread?',
      topK: 3,
    });
    assert.equal(found.status, 200, JSON.stringify(found.body));
    assert.equal(found.body.matches[0].id, 'bread');
    assert.match(found.body.matches[0].metadata.text, /sourdough/);

    const filtered = await call('POST', '/api/collections/docs/search', {
      text: 'a pet that purrs',
      topK: 5,
      filter: { topic: { $eq: 'animals' } },
    });
    assert.deepEqual(
      filtered.body.matches.map((m: { id: string }) => m.id),
      ['cats', 'dogs'],
    );

    const diverse = await call('POST', '/api/collections/docs/search', {
      text: 'domestic animals',
      topK: 2,
      mmr: { lambda: 0.3, fetchK: 5 },
    });
    assert.equal(diverse.status, 200, JSON.stringify(diverse.body));
    assert.equal(diverse.body.matches.length, 2);
    assert.equal(diverse.body.matches[0].values, undefined);

    const shown = await call('GET', '/api/collections/docs');
    assert.equal(shown.body.vectorCount, 5);
    const listed = await call('GET', '/api/collections');
    assert.deepEqual(
      listed.body.data.map((c: { name: string }) => c.name),
      ['docs'],
    );
  });

  it('refuses texts embedded with another version of the model (lineage)', async () => {
    await registry.models.createVersion('default', embeddingModel, newModelVersionSchema.parse({}), { actor: 'test' });
    const refused = await call('POST', '/api/collections/docs/search', { text: 'bread', model: embeddingModel });
    assert.equal(refused.status, 400);
    assert.match(refused.body.error.message, /all-minilm-l6-v2@1.*all-minilm-l6-v2@2.*refused/);
    const refusedUpsert = await call('POST', '/api/collections/docs/vectors', {
      records: [{ id: 'x', text: 'x' }],
      model: `${embeddingModel}@2`,
    });
    assert.equal(refusedUpsert.status, 400);
    // Without a model, or naming the pinned version, the collection's own model is used.
    const own = await call('POST', '/api/collections/docs/search', {
      text: 'bread',
      model: `${embeddingModel}@1`,
      topK: 1,
    });
    assert.equal(own.body.matches[0].id, 'bread');
  });

  it('serves vector-only collections, and names what is wrong in bad requests', async () => {
    assert.equal(
      (await call('POST', '/api/collections', { name: 'points', dimension: 3, metric: 'euclidean' })).status,
      201,
    );
    await call('POST', '/api/collections/points/vectors', {
      vectors: [
        { id: 'a', values: [0, 0, 1], metadata: { n: 1 } },
        { id: 'b', values: [0, 1, 0], metadata: { n: 2 } },
      ],
    });
    const near = await call('POST', '/api/collections/points/search', { vector: [0, 0.9, 0], topK: 1 });
    assert.equal(near.body.matches[0].id, 'b');

    const cases: [string, string, unknown, number, RegExp][] = [
      ['POST', '/api/collections/points/search', { text: 'hello' }, 400, /no embedding model/],
      ['POST', '/api/collections/points/search', { vector: [1, 2], topK: 1 }, 400, /dimension 2.*dimension 3/],
      ['POST', '/api/collections/points/search', { vector: [1, 2, 3], filter: { n: { $near: 1 } } }, 400, /\$near/],
      [
        'POST',
        '/api/collections/points/search',
        { vector: [1, 2, 3], text: 'x' },
        400,
        /exactly one of text and vector/,
      ],
      ['POST', '/api/collections', { name: 'Bad_Name', dimension: 3 }, 400, /name/],
      ['POST', '/api/collections', { name: 'nodim' }, 400, /dimension/],
      ['POST', '/api/collections', { name: 'points', dimension: 3 }, 409, /already exists/],
      ['POST', '/api/collections', { name: 'pc', dimension: 3, backend: 'pinecone' }, 400, /not configured/],
      ['POST', '/api/collections', { name: 'wrongdim', dimension: 12, embeddingModel }, 400, /384/],
      ['POST', '/api/collections/missing/search', { vector: [1] }, 404, /missing/],
    ];
    for (const [method, url, payload, status, message] of cases) {
      const answer = await call(method as 'POST', url, payload);
      assert.equal(answer.status, status, `${url} ${JSON.stringify(payload)} → ${JSON.stringify(answer.body)}`);
      assert.match(answer.body.error.message, message, JSON.stringify(answer.body));
    }

    await call('POST', '/api/collections/points/vectors/delete', { filter: { n: 1 } });
    assert.equal((await call('GET', '/api/collections/points')).body.vectorCount, 1);
    assert.equal((await call('DELETE', '/api/collections/points')).status, 204);
    assert.equal((await call('GET', '/api/collections/points')).status, 404);
  });

  it('serves pipelines and LangChain through retrievers over a collection', async () => {
    const retriever = new CollectionRetriever(collections);
    assert.equal(await retriever.exists('default', 'docs'), true);
    assert.equal(await retriever.exists('default', 'nope'), false);
    const [first] = await retriever.retrieve({
      projectId: 'default',
      collection: 'docs',
      query: 'which language is memory safe?',
      topK: 2,
      filter: undefined,
      signal: new AbortController().signal,
    });
    assert.equal(first?.id, 'rust');
    assert.match(first?.text ?? '', /memory safety/);
    assert.deepEqual(first?.metadata, { topic: 'programming' });
    const langchain = new CollectionLangChainRetriever({
      collections,
      projectId: 'default',
      collection: 'docs',
      topK: 1,
    });
    const [doc] = await langchain.invoke('volcanic eruptions and lava');
    assert.equal(doc?.metadata.id, 'volcano');
    assert.match(doc?.pageContent ?? '', /lava/);
  });

  it('keeps a collection whose backend is Pinecone (through the SDK, against this Ensemble) and searches it by text', async () => {
    const withPinecone = new CollectionService({
      repository: new PostgresCollectionRepository(registry.database.pool),
      stores: {
        embedded: store,
        pinecone: new PineconeVectorStore({ apiKey: registry.keys.adminKey, controllerHostUrl: `${url}/pinecone` }),
      },
      embedder: new RuntimeTextEmbedder(manager),
    });
    const created = await withPinecone.create('default', {
      name: 'remote-docs',
      backend: 'pinecone',
      metric: 'cosine',
      embeddingModel: `${embeddingModel}@1`,
      description: '',
    });
    assert.equal(created.backend, 'pinecone');
    assert.equal(created.storageId, 'default-remote-docs');
    await withPinecone.upsertTexts(created, passages);
    const [top] = await withPinecone.search(created, { text: 'kneading dough for a loaf', topK: 3 });
    assert.equal(top?.id, 'bread');
    assert.equal((await withPinecone.stats(created)).totalVectorCount, 5);
    await withPinecone.delete('default', 'remote-docs');
    await assert.rejects(collections.get('default', 'default-remote-docs'), /does not exist/);
  });

  it('ingests Markdown and PDF documents, finds the right chunk first, replaces and deletes documents', async () => {
    assert.equal(
      (await call('POST', '/api/collections', { name: 'manuals', embeddingModel: `${embeddingModel}@1` })).status,
      201,
    );
    const markdown = [
      '# Espresso machine',
      '',
      '## Descaling',
      '',
      'Every three months, run a descaling solution through the boiler to remove limescale.',
      '',
      '## Grinding',
      '',
      'Grind the coffee beans finely, just before brewing, for the best crema.',
      '',
      '## Warranty',
      '',
      'The warranty covers the pump and heating element for two years.',
    ].join('\n');
    const md = await call('POST', '/api/collections/manuals/documents', {
      id: 'espresso',
      source: 'espresso.md',
      type: 'text/markdown',
      text: markdown,
      chunkSize: 120,
      chunkOverlap: 0,
    });
    assert.equal(md.status, 200, JSON.stringify(md.body));
    assert.ok(md.body.chunks >= 3);
    const pdf = await makePdf([
      ['Bicycle maintenance guide.', 'Chapter one: tyres.'],
      ['To fix a puncture, remove the inner tube and patch the hole.'],
      ['Lubricate the chain every few hundred kilometres.'],
    ]);
    const fromPdf = await call('POST', '/api/collections/manuals/documents', {
      id: 'bicycle',
      source: 'bicycle.pdf',
      type: 'application/pdf',
      base64: Buffer.from(pdf).toString('base64'),
      chunkSize: 200,
      chunkOverlap: 0,
    });
    assert.equal(fromPdf.status, 200, JSON.stringify(fromPdf.body));
    assert.equal(fromPdf.body.chunks, 3);

    const search = async (text: string) =>
      (await call('POST', '/api/collections/manuals/search', { text, topK: 3 })).body.matches as {
        id: string;
        metadata: Record<string, unknown>;
      }[];
    const [limescale] = await search('how do I remove limescale from the machine?');
    assert.match(String(limescale?.metadata.text), /descaling/);
    assert.equal(limescale?.metadata.documentId, 'espresso');
    assert.equal(limescale?.metadata.source, 'espresso.md');
    const [puncture] = await search('how do I fix a puncture in the inner tube?');
    assert.equal(puncture?.id, 'bicycle#1');
    assert.equal(puncture?.metadata.position, 1);

    // Re-ingesting replaces the document's chunks; deleting it removes them.
    const again = await call('POST', '/api/collections/manuals/documents', {
      id: 'espresso',
      type: 'text/plain',
      text: 'This machine was recalled; do not use it.',
    });
    assert.equal(again.body.chunks, 1);
    assert.equal(again.body.removed, md.body.chunks - 1);
    assert.equal((await call('GET', '/api/collections/manuals')).body.vectorCount, 4);
    const removed = await call('DELETE', '/api/collections/manuals/documents/bicycle');
    assert.deepEqual(removed.body, { documentId: 'bicycle', removed: 3 });
    assert.equal((await call('GET', '/api/collections/manuals')).body.vectorCount, 1);

    const bad = [
      [{ id: 'x', type: 'application/msword', text: 'x' }, /type/],
      [{ id: 'x', type: 'application/pdf', base64: Buffer.from('not a pdf').toString('base64') }, /not a PDF/],
      [{ id: 'x#1', type: 'text/plain', text: 'x' }, /'#'/],
      [{ id: 'x', type: 'text/plain', text: 'x', chunkSize: 100, chunkOverlap: 100 }, /chunkOverlap/],
    ] as const;
    for (const [payload, message] of bad) {
      const answer = await call('POST', '/api/collections/manuals/documents', payload);
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
      assert.match(answer.body.error.message, message);
    }
  });

  it('ensemble ingest sends files as documents and reports each one', async () => {
    assert.equal(
      (await call('POST', '/api/collections', { name: 'notes', embeddingModel: `${embeddingModel}@1` })).status,
      201,
    );
    const dir = await mkdtemp(join(tmpdir(), 'ensemble-ingest-'));
    await writeFile(join(dir, 'plants.md'), '# Plants\n\nWater the basil every morning and keep it in the sun.');
    await writeFile(
      join(dir, 'stars.pdf'),
      await makePdf([['Neutron stars are the collapsed cores of massive stars.']]),
    );
    const printed: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) => {
      printed.push(chunk);
      return true;
    }) as typeof process.stdout.write;
    try {
      await main([
        'node',
        'ensemble',
        'ingest',
        'notes',
        join(dir, 'plants.md'),
        join(dir, 'stars.pdf'),
        '--url',
        url,
        '--api-key',
        registry.keys.adminKey,
      ]);
    } finally {
      process.stdout.write = write;
      await rm(dir, { recursive: true, force: true });
    }
    assert.equal(process.exitCode ?? 0, 0);
    assert.deepEqual(
      printed.map((line) => JSON.parse(line).documentId),
      ['plants.md', 'stars.pdf'],
    );
    const found = await call('POST', '/api/collections/notes/search', { text: 'collapsed stellar cores', topK: 1 });
    assert.equal(found.body.matches[0].metadata.documentId, 'stars.pdf');
    assert.throws(() => documentTypeOf('slides.pptx'), /unsupported file type/);
    assert.equal(ingestProgressLine(1, 2, 5, 'x.md', 10), '[#####-----] 1/2 files, 5 chunks  x.md');
  });
});
