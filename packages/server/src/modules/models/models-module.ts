import type { ChangeContext, ModelRepository } from '@ensemble/core';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { openAiErrorBodySchema } from '../../errors/openai-error-body.ts';
import { aliasJson, historyJson, modelJson, statusChangeJson, versionJson } from './model-json.ts';
import { modelNameOf, modelParamsSchema, modelPath, modelRefOf, nameDepths } from './model-name-params.ts';
import {
  aliasHistorySchema,
  aliasParamsShape,
  deleteModelQuerySchema,
  historyQuerySchema,
  listModelsQuerySchema,
  listVersionsQuerySchema,
  modelAliasListSchema,
  modelAliasSchema,
  modelListSchema,
  modelSchema,
  modelVersionListSchema,
  modelVersionSchema,
  moveAliasBodySchema,
  newVersionBodySchema,
  noQuerySchema,
  registerModelBodySchema,
  replaceAliasesBodySchema,
  statusHistorySchema,
  updateModelBodySchema,
  versionParamsShape,
} from './model-schemas.ts';

const errors = { 400: openAiErrorBodySchema, 404: openAiErrorBodySchema, 503: openAiErrorBodySchema };
const writeErrors = { ...errors, 409: openAiErrorBodySchema };
const tags = ['models'];

/** Who changed what: the API key that asked (its id), and the request id to trace the change. */
function changeContext(request: FastifyRequest): ChangeContext {
  return { actor: request.principal.keyId ?? 'api', traceId: request.id };
}

/**
 * `/api/models`: the registry. A name may be written raw in the path (`/api/models/openai/gpt-4o-mini`);
 * reads take a ref (`…/gpt-4o-mini@2`, `…:production`). The project is the API key's (an admin key may
 * name another in `x-ensemble-project`).
 */
export function modelsModule(models: ModelRepository): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/models',
      {
        schema: {
          tags,
          summary: 'List models',
          description: 'Filters combine; pass `nextCursor` back as `after` for the next page.',
          querystring: listModelsQuerySchema,
          response: { 200: modelListSchema, ...errors },
        },
      },
      async (request) => {
        const { after, kind, provider, tag, status, limit } = request.query;
        const page = await models.list({
          limit,
          projectId: request.principal.projectId,
          ...(after === undefined ? {} : { after }),
          ...(kind === undefined ? {} : { kind }),
          ...(provider === undefined ? {} : { provider }),
          ...(tag === undefined ? {} : { tag }),
          ...(status === undefined ? {} : { status }),
        });
        return { data: page.items.map(modelJson), nextCursor: page.nextCursor ?? null };
      },
    );

    app.post(
      '/api/models',
      {
        schema: {
          tags,
          summary: 'Register a model (its version 1)',
          body: registerModelBodySchema,
          response: { 201: modelSchema, ...writeErrors },
        },
      },
      async (request, reply) => {
        const model = await models.register(
          { ...request.body, projectId: request.principal.projectId },
          changeContext(request),
        );
        return reply.code(201).send(modelJson(model));
      },
    );

    for (const depth of nameDepths) {
      const hide = depth > 1;
      const path = (suffix = '') => modelPath(depth, suffix);
      const params = modelParamsSchema(depth, {});
      const aliasParams = modelParamsSchema(depth, aliasParamsShape);

      app.get(
        path(),
        {
          schema: {
            hide,
            tags,
            summary: 'Get a model',
            description: 'The name may carry a version (`name@3`) or an alias (`name:production`).',
            params,
            querystring: noQuerySchema,
            response: { 200: modelSchema, ...errors },
          },
        },
        async (request) => modelJson(await models.resolve(request.principal.projectId, modelRefOf(request.params))),
      );

      app.patch(
        path(),
        {
          schema: {
            hide,
            tags,
            summary: "Change a model's description, tags or status",
            description: 'The spec changes only by creating a version (`POST …/versions`).',
            params,
            querystring: noQuerySchema,
            body: updateModelBodySchema,
            response: { 200: modelSchema, ...errors },
          },
        },
        async (request) =>
          modelJson(
            await models.update(
              request.principal.projectId,
              modelNameOf(request.params),
              request.body,
              changeContext(request),
            ),
          ),
      );

      app.delete(
        path(),
        {
          schema: {
            hide,
            tags,
            summary: 'Retire a model, or purge it with ?purge=true',
            description: 'Retiring keeps the model, its versions and history (status `retired`); purging deletes them.',
            params,
            querystring: deleteModelQuerySchema,
            response: { 200: modelSchema, 204: z.null().meta({ description: 'Purged' }), ...errors },
          },
        },
        async (request, reply) => {
          const name = modelNameOf(request.params);
          const { projectId } = request.principal;
          if (request.query.purge) {
            await models.purge(projectId, name, changeContext(request));
            return reply.code(204).send(null);
          }
          return modelJson(await models.setStatus(projectId, name, 'retired', changeContext(request)));
        },
      );

      app.get(
        path('/versions'),
        {
          schema: {
            hide,
            tags,
            summary: "List a model's versions, newest first",
            params,
            querystring: listVersionsQuerySchema,
            response: { 200: modelVersionListSchema, ...errors },
          },
        },
        async (request) => {
          const { limit, after } = request.query;
          const page = await models.listVersions(request.principal.projectId, modelNameOf(request.params), {
            limit,
            ...(after === undefined ? {} : { after }),
          });
          return { data: page.items.map(versionJson), nextCursor: page.nextCursor ?? null };
        },
      );

      app.post(
        path('/versions'),
        {
          schema: {
            hide,
            tags,
            summary: 'Create a version',
            description:
              'Fields left out are copied from `from` (the newest version by default); `null` removes an optional field.',
            params,
            querystring: noQuerySchema,
            body: newVersionBodySchema,
            response: { 201: modelVersionSchema, ...writeErrors },
          },
        },
        async (request, reply) => {
          const version = await models.createVersion(
            request.principal.projectId,
            modelNameOf(request.params),
            request.body,
            changeContext(request),
          );
          return reply.code(201).send(versionJson(version));
        },
      );

      app.get(
        path('/versions/:version'),
        {
          schema: {
            hide,
            tags,
            summary: 'Get one version',
            params: modelParamsSchema(depth, versionParamsShape),
            querystring: noQuerySchema,
            response: { 200: modelVersionSchema, ...errors },
          },
        },
        async (request) =>
          versionJson(
            await models.getVersion(request.principal.projectId, modelNameOf(request.params), request.params.version),
          ),
      );

      app.get(
        path('/aliases'),
        {
          schema: {
            hide,
            tags,
            summary: "List a model's aliases",
            params,
            querystring: noQuerySchema,
            response: { 200: modelAliasListSchema, ...errors },
          },
        },
        async (request) => ({
          data: (await models.listAliases(request.principal.projectId, modelNameOf(request.params))).map(aliasJson),
        }),
      );

      app.put(
        path('/aliases'),
        {
          schema: {
            hide,
            tags,
            summary: 'Set all aliases at once',
            description: 'One transaction: the aliases become exactly the given map; those left out are deleted.',
            params,
            querystring: noQuerySchema,
            body: replaceAliasesBodySchema,
            response: { 200: modelAliasListSchema, ...writeErrors },
          },
        },
        async (request) => {
          const aliases = await models.replaceAliases(
            request.principal.projectId,
            modelNameOf(request.params),
            request.body,
            changeContext(request),
          );
          return { data: aliases.map(aliasJson) };
        },
      );

      app.put(
        path('/aliases/:alias'),
        {
          schema: {
            hide,
            tags,
            summary: 'Point an alias at a version',
            description:
              'One atomic update, recorded in the history. With `expectedVersion` it is a compare-and-set (409 if the alias moved).',
            params: aliasParams,
            querystring: noQuerySchema,
            body: moveAliasBodySchema,
            response: { 200: modelAliasSchema, ...writeErrors },
          },
        },
        async (request) => {
          const { version, expectedVersion } = request.body;
          const alias = await models.moveAlias(
            request.principal.projectId,
            modelNameOf(request.params),
            request.params.alias,
            version,
            { ...changeContext(request), ...(expectedVersion === undefined ? {} : { expectedVersion }) },
          );
          return aliasJson(alias);
        },
      );

      app.delete(
        path('/aliases/:alias'),
        {
          schema: {
            hide,
            tags,
            summary: 'Delete an alias',
            params: aliasParams,
            querystring: noQuerySchema,
            response: { 204: z.null().meta({ description: 'Deleted' }), ...errors },
          },
        },
        async (request, reply) => {
          await models.deleteAlias(
            request.principal.projectId,
            modelNameOf(request.params),
            request.params.alias,
            changeContext(request),
          );
          return reply.code(204).send(null);
        },
      );

      app.get(
        path('/history'),
        {
          schema: {
            hide,
            tags,
            summary: "A model's status changes (its health history), newest first",
            description:
              'Deploys, failed and recovered health checks, undeploys and retirement, each with its reason and who made it.',
            params,
            querystring: historyQuerySchema,
            response: { 200: statusHistorySchema, ...errors },
          },
        },
        async (request) => {
          const history = await models.statusHistory(request.principal.projectId, modelNameOf(request.params), {
            limit: request.query.limit,
          });
          return { data: history.map(statusChangeJson) };
        },
      );

      app.get(
        path('/aliases/:alias/history'),
        {
          schema: {
            hide,
            tags,
            summary: "An alias's moves, newest first",
            params: aliasParams,
            querystring: historyQuerySchema,
            response: { 200: aliasHistorySchema, ...errors },
          },
        },
        async (request) => {
          const history = await models.aliasHistory(
            request.principal.projectId,
            modelNameOf(request.params),
            request.params.alias,
            { limit: request.query.limit },
          );
          return { data: history.map(historyJson) };
        },
      );
    }
  };
}
