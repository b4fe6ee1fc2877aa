import { createHash } from 'node:crypto';
import {
  type ArtifactStore,
  type Collection,
  type CollectionService,
  canonicalNamespace,
  type DocumentChunker,
  type DocumentType,
  deleteDocument,
  type IngestJobItem,
  ingestDocument,
  inlineIngestMaxBytes,
  type JobRepository,
  type Principal,
  type VectorDeletion,
  validationError,
} from '@ensemble/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { openAiErrorBodySchema } from '../../errors/openai-error-body.ts';
import type { OutboundGuard } from '../../security/outbound-guard.ts';
import { collectionJson } from './collection-json.ts';
import {
  collectionListSchema,
  collectionParamsSchema,
  collectionSchema,
  deleteVectorsBodySchema,
  documentDeleteQuerySchema,
  documentParamsSchema,
  ingestAcceptedSchema,
  ingestBodySchema,
  ingestQuerySchema,
  ingestResultSchema,
  listCollectionsQuerySchema,
  newCollectionBodySchema,
  searchBodySchema,
  searchResultSchema,
  upsertBodySchema,
  upsertResultSchema,
} from './collection-schemas.ts';
import { type DocumentFetchLimits, fetchDocument } from './fetch-document.ts';

const errors = {
  400: openAiErrorBodySchema,
  401: openAiErrorBodySchema,
  403: openAiErrorBodySchema,
  404: openAiErrorBodySchema,
  503: openAiErrorBodySchema,
};
const writeErrors = { ...errors, 409: openAiErrorBodySchema };
const tags = ['collections'];

export interface CollectionsModuleOptions {
  collections: CollectionService;
  /** Text out of documents and the splitters; without it there is no `/documents` route. */
  chunker?: DocumentChunker;
  /**
   * Ingestion as jobs: documents beyond a small inline text are stored in the artifact store and
   * ingested by an `embed` job (202 with its id). Without it every document is ingested in the request.
   */
  ingestJobs?: {
    jobs: JobRepository;
    artifacts: ArtifactStore;
    /** Bounds a whole document's ingestion (the job's item timeout). */
    timeoutMs: number;
  };
  /** Documents named by URL are fetched through it (SSRF rules), within these limits; without it `url` is refused. */
  fetcher?: { guard: OutboundGuard; limits: DocumentFetchLimits };
}

/**
 * `/api/collections`: collections of the caller's project — create (embedded or Pinecone backend,
 * dimension, metric, embedding model pinned at its version), list, get with live counts, delete;
 * upsert vectors or texts; search by text (embedded with the collection's model) or vector, with a
 * metadata filter and optional MMR.
 */
export function collectionsModule(options: CollectionsModuleOptions): FastifyPluginAsyncZod {
  const { collections, chunker, ingestJobs, fetcher } = options;
  return async (app) => {
    app.get(
      '/api/collections',
      {
        schema: {
          tags,
          summary: 'List collections',
          querystring: listCollectionsQuerySchema,
          response: { 200: collectionListSchema, ...errors },
        },
      },
      async (request) => {
        const { limit, after } = request.query;
        const page = await collections.list(request.principal.projectId, {
          limit,
          ...(after === undefined ? {} : { after }),
        });
        return { data: page.items.map((c) => collectionJson(c)), nextCursor: page.nextCursor ?? null };
      },
    );

    app.post(
      '/api/collections',
      {
        schema: {
          tags,
          summary: 'Create a collection',
          description:
            'With `embeddingModel`, the dimension is measured from the model and its version is pinned: text upserts and searches with another model are refused.',
          body: newCollectionBodySchema,
          response: { 201: collectionSchema, ...writeErrors },
        },
      },
      async (request, reply) => {
        const created = await collections.create(request.principal.projectId, request.body);
        return reply.code(201).send(collectionJson(created, await collections.stats(created)));
      },
    );

    app.get(
      '/api/collections/:name',
      {
        schema: {
          tags,
          summary: 'Get a collection with its live vector counts',
          params: collectionParamsSchema,
          response: { 200: collectionSchema, ...errors },
        },
      },
      async (request) => {
        const collection = await collections.get(request.principal.projectId, request.params.name);
        return collectionJson(collection, await collections.stats(collection));
      },
    );

    app.delete(
      '/api/collections/:name',
      {
        schema: {
          tags,
          summary: 'Delete a collection and its vectors',
          params: collectionParamsSchema,
          response: { 204: z.null().meta({ description: 'Deleted' }), ...errors },
        },
      },
      async (request, reply) => {
        await collections.delete(request.principal.projectId, request.params.name);
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/api/collections/:name/vectors',
      {
        schema: {
          tags,
          summary: 'Upsert vectors, or texts embedded with the collection model',
          params: collectionParamsSchema,
          body: upsertBodySchema,
          response: { 200: upsertResultSchema, ...errors },
        },
      },
      async (request) => {
        const collection = await collections.get(request.principal.projectId, request.params.name);
        const { namespace, vectors, records, model } = request.body;
        if (vectors !== undefined) return collections.upsertVectors(collection, vectors, namespace);
        return collections.upsertTexts(collection, records ?? [], {
          ...(namespace === undefined ? {} : { namespace }),
          ...(model === undefined ? {} : { model }),
        });
      },
    );

    app.post(
      '/api/collections/:name/vectors/delete',
      {
        schema: {
          tags,
          summary: 'Delete vectors by ids, by metadata filter, or all of a namespace',
          params: collectionParamsSchema,
          body: deleteVectorsBodySchema,
          response: { 200: z.object({}), ...errors },
        },
      },
      async (request) => {
        const collection = await collections.get(request.principal.projectId, request.params.name);
        const { namespace, ids, filter } = request.body;
        const ns = namespace === undefined ? {} : { namespace };
        const deletion: VectorDeletion =
          ids !== undefined ? { ...ns, ids } : filter !== undefined ? { ...ns, filter } : { ...ns, deleteAll: true };
        await collections.index(collection).delete(deletion);
        return {};
      },
    );

    app.post(
      '/api/collections/:name/search',
      {
        schema: {
          tags,
          summary: 'Search by text or vector',
          description:
            'Text is embedded with the collection model (a different `model` is refused). `filter` uses Pinecone metadata filter language; `mmr` re-ranks for diversity.',
          params: collectionParamsSchema,
          body: searchBodySchema,
          response: { 200: searchResultSchema, ...errors },
        },
      },
      async (request) => {
        const collection = await collections.get(request.principal.projectId, request.params.name);
        const body = request.body;
        const matches = await collections.search(collection, {
          topK: body.topK,
          includeValues: body.includeValues,
          includeMetadata: body.includeMetadata,
          ...(body.text === undefined ? {} : { text: body.text }),
          ...(body.vector === undefined ? {} : { vector: body.vector }),
          ...(body.namespace === undefined ? {} : { namespace: body.namespace }),
          ...(body.filter === undefined ? {} : { filter: body.filter }),
          ...(body.model === undefined ? {} : { model: body.model }),
          ...(body.mmr === undefined ? {} : { mmr: body.mmr }),
        });
        return { matches, namespace: canonicalNamespace(body.namespace) };
      },
    );

    if (chunker !== undefined) {
      app.post(
        '/api/collections/:name/documents',
        {
          schema: {
            tags,
            summary:
              'Ingest a document: text, Markdown, HTML or PDF (inline, base64 or by URL), split, embedded, upserted',
            description:
              'Chunks are `<id>#<position>` with metadata `documentId`, `source`, `position` and `text`; re-ingesting an id replaces its chunks (new ones written before old extras are removed). ' +
              `An inline text up to ${inlineIngestMaxBytes} bytes is ingested in the request (200); anything else — a larger text, base64 bytes, a URL — is an \`embed\` job (202 with its id; progress on /api/jobs/{id} and its events). \`wait=true\` ingests in the request whatever the size.`,
            params: collectionParamsSchema,
            querystring: ingestQuerySchema,
            body: ingestBodySchema,
            response: { 200: ingestResultSchema, 202: ingestAcceptedSchema, ...errors },
          },
        },
        async (request, reply) => {
          const collection = await collections.get(request.principal.projectId, request.params.name);
          const body = request.body;
          let bytes: Buffer;
          let type = body.type as DocumentType | undefined;
          if (body.url !== undefined) {
            if (fetcher === undefined) throw validationError('body.url', 'documents by URL are not enabled here');
            const fetched = await fetchDocument(fetcher.guard, body.url, 'body.url', fetcher.limits, type);
            bytes = fetched.bytes;
            type = fetched.type;
          } else {
            bytes =
              body.base64 !== undefined ? Buffer.from(body.base64, 'base64') : Buffer.from(body.text as string, 'utf8');
          }
          const document = {
            id: body.id,
            type: type as DocumentType,
            ...(body.source === undefined
              ? body.url === undefined
                ? {}
                : { source: body.url }
              : { source: body.source }),
            ...(body.namespace === undefined ? {} : { namespace: body.namespace }),
          };
          const small = body.text !== undefined && bytes.length <= inlineIngestMaxBytes;
          if (ingestJobs === undefined || small || request.query.wait === 'true') {
            let split = false;
            try {
              return await ingestDocument(
                collections,
                chunker,
                collection,
                { ...document, bytes },
                {
                  chunkSize: body.chunkSize,
                  chunkOverlap: body.chunkOverlap,
                  onChunked: () => {
                    split = true;
                  },
                },
              );
            } catch (error) {
              // Failed once chunks may have been written: the document goes whole, as a failed ingestion
              // job's does (decision 0037), so no search returns part of it.
              if (split) {
                await deleteDocument(collections, collection, document.id, document.namespace).catch(
                  (undoError: unknown) =>
                    request.log.warn({ err: undoError, documentId: document.id }, 'could not remove a failed document'),
                );
              }
              throw error;
            }
          }
          if (body.chunkOverlap >= body.chunkSize)
            throw validationError('body.chunkOverlap', 'must be smaller than chunkSize');
          const job = await submitIngestJob(ingestJobs, request.principal, collection, {
            ...document,
            chunkSize: body.chunkSize,
            chunkOverlap: body.chunkOverlap,
            bytes,
          });
          request.log.info({ jobId: job.id, documentId: body.id, bytes: bytes.length }, 'ingestion job submitted');
          return reply
            .code(202)
            .send({ object: 'ingestion' as const, documentId: body.id, jobId: job.id, status: job.status });
        },
      );

      app.delete(
        '/api/collections/:name/documents/:id',
        {
          schema: {
            tags,
            summary: "Delete a document's chunks",
            params: documentParamsSchema,
            querystring: documentDeleteQuerySchema,
            response: { 200: z.object({ documentId: z.string(), removed: z.number() }), ...errors },
          },
        },
        async (request) => {
          const collection = await collections.get(request.principal.projectId, request.params.name);
          const removed = await deleteDocument(collections, collection, request.params.id, request.query.namespace);
          return { documentId: request.params.id, removed };
        },
      );
    }
  };
}

/** Stores the document's bytes and submits the `embed` job (source `ingest`) that ingests it. */
async function submitIngestJob(
  ingest: NonNullable<CollectionsModuleOptions['ingestJobs']>,
  principal: Principal,
  collection: Collection,
  document: Omit<IngestJobItem['document'], 'artifact'> & { bytes: Buffer },
) {
  if (collection.embedding === null) {
    throw validationError('name', `collection '${collection.name}' has no embedding model: it takes vectors only`);
  }
  const { bytes, ...rest } = document;
  const stored = await ingest.artifacts.put(
    (async function* () {
      yield bytes;
    })(),
  );
  const item: IngestJobItem = { collection: collection.name, document: { ...rest, artifact: stored.sha256 } };
  const { job } = await ingest.jobs.submit(
    {
      projectId: principal.projectId,
      type: 'embed',
      model: collection.embedding.model,
      target: {
        type: 'model',
        name: collection.embedding.model,
        version: collection.embedding.version,
        kind: 'embedding',
      },
      priority: 'normal',
      itemTimeoutMs: ingest.timeoutMs,
      retry: { maxAttempts: 1, initialDelayMs: 0, maxDelayMs: 0 },
      webhook: null,
      metadata: { collection: collection.name, documentId: document.id },
      idempotencyKey: null,
      requestSha256: createHash('sha256').update(JSON.stringify(item)).digest('hex'),
      source: 'ingest',
      sourceDetails: { collection: collection.name, documentId: document.id },
      createdBy: principal.keyId,
    },
    (async function* () {
      yield [{ customId: document.id, body: item as unknown as Record<string, unknown> }];
    })(),
  );
  return job;
}
