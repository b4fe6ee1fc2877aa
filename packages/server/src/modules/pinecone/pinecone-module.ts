import { type CollectionService, type VectorDeletion, validationError } from '@ensemble/core';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { headerScheme } from '../../auth/api-key-scheme.ts';
import { formatPineconeError } from './pinecone-error-body.ts';
import { indexHost, pineconeIndexJson } from './pinecone-index-json.ts';
import {
  createIndexBodySchema,
  deleteBodySchema,
  fetchQuerySchema,
  indexParamsSchema,
  listQuerySchema,
  queryBodySchema,
  statsBodySchema,
  updateBodySchema,
  upsertBodySchema,
} from './pinecone-schemas.ts';

export interface PineconeModuleOptions {
  collections: CollectionService;
}

const tags = ['pinecone'];

function apiVersion(request: FastifyRequest): string | undefined {
  const header = request.headers['x-pinecone-api-version'];
  return typeof header === 'string' ? header : undefined;
}

function origin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

/**
 * A Pinecone-compatible REST API over collections, so Pinecone's SDKs and LangChain's PineconeStore
 * work against Ensemble unchanged: the control plane under `/pinecone` (point the SDK's
 * `controllerHostUrl` there) and each index's data plane at its `host`, `/pinecone/data/{index}`.
 * The key goes in `Api-Key`; an index is a collection of the key's project (made here, it has no
 * embedding model). Errors come in Pinecone's shapes.
 */
export function pineconeModule(options: PineconeModuleOptions): FastifyPluginAsyncZod {
  const { collections } = options;
  return async (app) => {
    app.requireApiKey('/pinecone', headerScheme('Api-Key'));
    app.registerErrorFormatter('/pinecone', formatPineconeError);

    const collectionOf = (request: FastifyRequest, index: string) =>
      collections.get(request.principal.projectId, index);

    // ---- control plane ----

    app.get('/pinecone/indexes', { schema: { tags, summary: 'List indexes (collections)' } }, async (request) => {
      const out = [];
      let after: string | undefined;
      do {
        const page = await collections.list(request.principal.projectId, {
          limit: 200,
          ...(after === undefined ? {} : { after }),
        });
        for (const c of page.items)
          out.push(pineconeIndexJson(c, indexHost(origin(request), c.name), apiVersion(request)));
        after = page.nextCursor;
      } while (after !== undefined);
      return { indexes: out };
    });

    app.post(
      '/pinecone/indexes',
      { schema: { tags, summary: 'Create an index (an embedded collection)', body: createIndexBodySchema } },
      async (request, reply) => {
        const body = request.body;
        let dimension = body.dimension;
        let metric = body.metric;
        if (body.schema !== undefined) {
          const dense = Object.values(body.schema.fields).filter((field) => field.type === 'dense_vector');
          if (dense.length !== 1 || Object.values(body.schema.fields).some((f) => f.type !== 'dense_vector')) {
            throw validationError('schema.fields', 'only one dense_vector field is supported');
          }
          dimension = dense[0]?.dimension;
          metric = dense[0]?.metric ?? metric;
        }
        if (dimension === undefined) throw validationError('dimension', 'a dense index needs a dimension');
        const created = await collections.create(
          request.principal.projectId,
          { name: body.name, backend: 'embedded', dimension, metric: metric ?? 'cosine', description: '' },
          'body',
        );
        return reply
          .code(201)
          .send(pineconeIndexJson(created, indexHost(origin(request), created.name), apiVersion(request)));
      },
    );

    app.get(
      '/pinecone/indexes/:index',
      { schema: { tags, summary: 'Describe an index', params: indexParamsSchema } },
      async (request) => {
        const collection = await collectionOf(request, request.params.index);
        return pineconeIndexJson(collection, indexHost(origin(request), collection.name), apiVersion(request));
      },
    );

    app.delete(
      '/pinecone/indexes/:index',
      { schema: { tags, summary: 'Delete an index and its vectors', params: indexParamsSchema } },
      async (request, reply) => {
        await collections.delete(request.principal.projectId, request.params.index);
        return reply.code(202).send();
      },
    );

    // ---- data plane (each index's host) ----

    const data = (path: string) => `/pinecone/data/:index${path}`;

    app.post(
      data('/vectors/upsert'),
      { schema: { tags, summary: 'Upsert vectors', params: indexParamsSchema, body: upsertBodySchema } },
      async (request) => {
        const collection = await collectionOf(request, request.params.index);
        const records = request.body.vectors.map((v) => ({
          id: v.id,
          values: v.values,
          ...(v.metadata === undefined ? {} : { metadata: v.metadata }),
        }));
        return collections.upsertVectors(collection, records, request.body.namespace);
      },
    );

    app.post(
      data('/query'),
      { schema: { tags, summary: 'Query by vector or id', params: indexParamsSchema, body: queryBodySchema } },
      async (request) => {
        const collection = await collectionOf(request, request.params.index);
        const { topK, namespace, filter, includeValues, includeMetadata, vector, id } = request.body;
        const matches = await collections.index(collection).query({
          topK,
          ...(namespace === undefined ? {} : { namespace }),
          ...(filter === undefined ? {} : { filter }),
          ...(vector === undefined ? {} : { vector }),
          ...(id === undefined ? {} : { id }),
          includeValues: includeValues ?? false,
          includeMetadata: includeMetadata ?? false,
        });
        return {
          results: [],
          matches: includeValues ? matches : matches.map((m) => ({ ...m, values: [] })),
          namespace: namespace ?? '',
          usage: { readUnits: 5 },
        };
      },
    );

    app.get(
      data('/vectors/fetch'),
      { schema: { tags, summary: 'Fetch vectors by id', params: indexParamsSchema, querystring: fetchQuerySchema } },
      async (request) => {
        const collection = await collectionOf(request, request.params.index);
        const found = await collections.index(collection).fetch(request.query.ids, request.query.namespace);
        return {
          vectors: Object.fromEntries(found.map((v) => [v.id, v])),
          namespace: request.query.namespace ?? '',
          usage: { readUnits: 1 },
        };
      },
    );

    app.post(
      data('/vectors/update'),
      { schema: { tags, summary: 'Update values or metadata', params: indexParamsSchema, body: updateBodySchema } },
      async (request) => {
        const collection = await collectionOf(request, request.params.index);
        const { id, values, setMetadata, namespace } = request.body;
        await collections.index(collection).update({
          id,
          ...(values === undefined ? {} : { values }),
          ...(setMetadata === undefined ? {} : { setMetadata }),
          ...(namespace === undefined ? {} : { namespace }),
        });
        return {};
      },
    );

    app.post(
      data('/vectors/delete'),
      { schema: { tags, summary: 'Delete by ids, filter, or all', params: indexParamsSchema, body: deleteBodySchema } },
      async (request) => {
        const collection = await collectionOf(request, request.params.index);
        const { ids, deleteAll, filter, namespace } = request.body;
        const ns = namespace === undefined ? {} : { namespace };
        const given = [ids !== undefined, deleteAll === true, filter !== undefined].filter(Boolean).length;
        if (given !== 1) throw validationError('ids', 'send exactly one of ids, deleteAll: true and filter');
        const deletion: VectorDeletion =
          ids !== undefined ? { ...ns, ids } : filter !== undefined ? { ...ns, filter } : { ...ns, deleteAll: true };
        await collections.index(collection).delete(deletion);
        return {};
      },
    );

    app.get(
      data('/vectors/list'),
      { schema: { tags, summary: 'List vector ids', params: indexParamsSchema, querystring: listQuerySchema } },
      async (request) => {
        const collection = await collectionOf(request, request.params.index);
        const { prefix, limit, paginationToken, namespace } = request.query;
        const page = await collections.index(collection).listIds({
          ...(prefix === undefined ? {} : { prefix }),
          ...(limit === undefined ? {} : { limit }),
          ...(paginationToken === undefined ? {} : { paginationToken }),
          ...(namespace === undefined ? {} : { namespace }),
        });
        return {
          vectors: page.ids.map((id) => ({ id })),
          ...(page.next === undefined ? {} : { pagination: { next: page.next } }),
          namespace: namespace ?? '',
          usage: { readUnits: 1 },
        };
      },
    );

    for (const method of ['GET', 'POST'] as const) {
      app.route({
        method,
        url: data('/describe_index_stats'),
        schema: {
          tags,
          summary: 'Index statistics',
          params: indexParamsSchema,
          ...(method === 'POST' ? { body: statsBodySchema } : {}),
        },
        handler: async (request) => {
          const { index } = request.params as { index: string };
          const collection = await collectionOf(request, index);
          const body = request.body as { filter?: Record<string, unknown> } | undefined;
          const stats = await collections.stats(collection, body?.filter);
          return {
            namespaces: stats.namespaces,
            dimension: stats.dimension,
            indexFullness: 0,
            totalVectorCount: stats.totalVectorCount,
            metric: stats.metric,
            vectorType: 'dense',
          };
        },
      });
    }
  };
}
