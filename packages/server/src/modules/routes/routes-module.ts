import { EnsembleError, type RouteChangeContext, type RouteRepository } from '@ensemble/core';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { openAiErrorBodySchema } from '../../errors/openai-error-body.ts';
import { nameDepths } from '../models/model-name-params.ts';
import { routeJson, routeVersionJson, routeVersionSummaryJson } from './route-json.ts';
import { routeNameOf, routeParamsSchema, routePath } from './route-name-params.ts';
import {
  deleteRouteQuerySchema,
  listRoutesQuerySchema,
  listRouteVersionsQuerySchema,
  newRouteBodySchema,
  newRouteVersionBodySchema,
  noQuerySchema,
  routeDetailSchema,
  routeListSchema,
  routeSchema,
  routeVersionListSchema,
  routeVersionSchema,
  updateRouteBodySchema,
  versionParamsShape,
} from './route-schemas.ts';

const errors = {
  400: openAiErrorBodySchema,
  401: openAiErrorBodySchema,
  403: openAiErrorBodySchema,
  404: openAiErrorBodySchema,
  503: openAiErrorBodySchema,
};
const writeErrors = { ...errors, 409: openAiErrorBodySchema };
const tags = ['routes'];

/** Versions shown with a route; the rest are under `…/versions`. */
const versionsShown = 20;

/** Who changed what (the API key's id, the request id) and that input errors are named from `body`. */
function changeContext(request: FastifyRequest): RouteChangeContext {
  return { actor: request.principal.keyId ?? 'api', traceId: request.id, field: 'body' };
}

/**
 * A key limited to some models must not change routes: a route named like one of its models could
 * send its calls anywhere in the project.
 */
function assertMayChangeRoutes(request: FastifyRequest): void {
  if (request.principal.allowedModels !== undefined) {
    throw new EnsembleError(
      'forbidden',
      'a key limited to some models may read routes but not change them; use a key without a model list',
    );
  }
}

/**
 * `/api/routes`: routes (virtual models) of the caller's project, called in `/v1` by name like models.
 * Versions are immutable; the current one is what `/v1` runs (the newest unless moved back with PATCH).
 * Writes check every target against the project's models and routes (400 naming the policy path).
 */
export function routesModule(routes: RouteRepository): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/routes',
      {
        schema: {
          tags,
          summary: 'List routes',
          description: 'Ordered by name; filters combine; pass `nextCursor` back as `after` for the next page.',
          querystring: listRoutesQuerySchema,
          response: { 200: routeListSchema, ...errors },
        },
      },
      async (request) => {
        const { after, status, target, limit } = request.query;
        const page = await routes.list(request.principal.projectId, {
          limit,
          ...(after === undefined ? {} : { after }),
          ...(status === undefined ? {} : { status }),
          ...(target === undefined ? {} : { target }),
        });
        return { data: page.items.map(routeJson), nextCursor: page.nextCursor ?? null };
      },
    );

    app.post(
      '/api/routes',
      {
        schema: {
          tags,
          summary: 'Create a route (its version 1)',
          description:
            'A name no model of the project has (a route would hide it in /v1: 409). Every target must name a model (`name`, `name@3`, `name:production`) or an active route of the project.',
          body: newRouteBodySchema,
          response: { 201: routeSchema, ...writeErrors },
        },
      },
      async (request, reply) => {
        assertMayChangeRoutes(request);
        const route = await routes.create(request.principal.projectId, request.body, changeContext(request));
        return reply.code(201).send(routeJson(route));
      },
    );

    for (const depth of nameDepths) {
      const hide = depth > 1;
      const path = (suffix = '') => routePath(depth, suffix);
      const params = routeParamsSchema(depth, {});

      app.get(
        path(),
        {
          schema: {
            hide,
            tags,
            summary: 'Get a route: its current version and its newest versions',
            params,
            querystring: noQuerySchema,
            response: { 200: routeDetailSchema, ...errors },
          },
        },
        async (request) => {
          const { projectId } = request.principal;
          const name = routeNameOf(request.params);
          const [route, versions] = await Promise.all([
            routes.get(projectId, name),
            routes.listVersions(projectId, name, { limit: versionsShown }),
          ]);
          return { ...routeJson(route), versions: versions.items.map(routeVersionSummaryJson) };
        },
      );

      app.patch(
        path(),
        {
          schema: {
            hide,
            tags,
            summary: 'Move the current version (roll back or forward) or change the status',
            description:
              'Making a version current or a route active again re-checks its targets. Retiring a route other active routes target is a 409.',
            params,
            querystring: noQuerySchema,
            body: updateRouteBodySchema,
            response: { 200: routeSchema, ...writeErrors },
          },
        },
        async (request) => {
          assertMayChangeRoutes(request);
          const route = await routes.update(
            request.principal.projectId,
            routeNameOf(request.params),
            request.body,
            changeContext(request),
          );
          return routeJson(route);
        },
      );

      app.delete(
        path(),
        {
          schema: {
            hide,
            tags,
            summary: 'Retire a route, or delete it with ?purge=true',
            description:
              'Retiring keeps the route and its versions but stops serving it; deleting removes them. Both are a 409 while other active routes target it.',
            params,
            querystring: deleteRouteQuerySchema,
            response: { 200: routeSchema, 204: z.null().meta({ description: 'Deleted' }), ...writeErrors },
          },
        },
        async (request, reply) => {
          assertMayChangeRoutes(request);
          const name = routeNameOf(request.params);
          const { projectId } = request.principal;
          if (request.query.purge) {
            await routes.purge(projectId, name, changeContext(request));
            return reply.code(204).send(null);
          }
          return routeJson(await routes.update(projectId, name, { status: 'retired' }, changeContext(request)));
        },
      );

      app.get(
        path('/versions'),
        {
          schema: {
            hide,
            tags,
            summary: "List a route's versions, newest first",
            params,
            querystring: listRouteVersionsQuerySchema,
            response: { 200: routeVersionListSchema, ...errors },
          },
        },
        async (request) => {
          const { limit, after } = request.query;
          const page = await routes.listVersions(request.principal.projectId, routeNameOf(request.params), {
            limit,
            ...(after === undefined ? {} : { after }),
          });
          return { data: page.items.map(routeVersionJson), nextCursor: page.nextCursor ?? null };
        },
      );

      app.post(
        path('/versions'),
        {
          schema: {
            hide,
            tags,
            summary: 'Add a version; it becomes the current one',
            params,
            querystring: noQuerySchema,
            body: newRouteVersionBodySchema,
            response: { 201: routeSchema, ...writeErrors },
          },
        },
        async (request, reply) => {
          assertMayChangeRoutes(request);
          const route = await routes.addVersion(
            request.principal.projectId,
            routeNameOf(request.params),
            request.body,
            changeContext(request),
          );
          return reply.code(201).send(routeJson(route));
        },
      );

      app.get(
        path('/versions/:version'),
        {
          schema: {
            hide,
            tags,
            summary: 'Get one version',
            params: routeParamsSchema(depth, versionParamsShape),
            querystring: noQuerySchema,
            response: { 200: routeVersionSchema, ...errors },
          },
        },
        async (request) =>
          routeVersionJson(
            await routes.getVersion(request.principal.projectId, routeNameOf(request.params), request.params.version),
          ),
      );
    }
  };
}
