import { type ApiKeyStore, EnsembleError, type Principal, roleIncludes, roleOfNewKey } from '@ensemble/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { openAiErrorBodySchema } from '../../errors/openai-error-body.ts';
import {
  apiKeyJson,
  apiKeyListSchema,
  apiKeyParamsSchema,
  apiKeySchema,
  createdApiKeySchema,
  listApiKeysQuerySchema,
  newApiKeyBodySchema,
} from './key-schemas.ts';

const errors = {
  400: openAiErrorBodySchema,
  401: openAiErrorBodySchema,
  403: openAiErrorBodySchema,
  404: openAiErrorBodySchema,
  503: openAiErrorBodySchema,
};
const tags = ['keys'];

/**
 * `/api/keys`: API keys of the caller's project (an admin key may name another project in
 * `x-ensemble-project`). Only admin keys create keys or revoke others'; any key may list its project's
 * keys (masked) and revoke itself. The secret is in the creation response only.
 */
export function keysModule(keys: ApiKeyStore): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/api/keys',
      {
        schema: {
          tags,
          summary: "Create an API key (the 'admin' role or above); the secret is shown in this response only",
          body: newApiKeyBodySchema,
          response: { 201: createdApiKeySchema, ...errors },
        },
      },
      async (request, reply) => {
        assertMayGrant(request.principal, request.body);
        const { key, secret } = await keys.create(request.principal.projectId, request.body);
        request.log.info({ keyId: key.id, projectId: key.projectId, admin: key.admin }, 'API key created');
        // A secret must not linger in a shared cache or a browser's history.
        return reply
          .code(201)
          .header('cache-control', 'no-store')
          .send({ ...apiKeyJson(key), secret });
      },
    );

    app.get(
      '/api/keys',
      {
        schema: {
          tags,
          summary: "List the project's API keys, newest first (never their secrets)",
          querystring: listApiKeysQuerySchema,
          response: { 200: apiKeyListSchema, ...errors },
        },
      },
      async (request) => {
        const { limit, after } = request.query;
        const page = await keys.list(request.principal.projectId, { limit, ...(after === undefined ? {} : { after }) });
        return { data: page.items.map(apiKeyJson), nextCursor: page.nextCursor ?? null };
      },
    );

    app.get(
      '/api/keys/:id',
      {
        schema: {
          tags,
          summary: 'Get an API key (never its secret)',
          params: apiKeyParamsSchema,
          response: { 200: apiKeySchema, ...errors },
        },
      },
      async (request) => apiKeyJson(await keys.get(request.principal.projectId, request.params.id)),
    );

    app.delete(
      '/api/keys/:id',
      {
        schema: {
          tags,
          summary: "Revoke an API key (the 'admin' role or above, or a key revoking itself)",
          description:
            'Takes effect at once on the instance that answers, and on the others within API_KEY_CACHE_TTL_MS (5 s by default). Revoking a revoked key changes nothing.',
          params: apiKeyParamsSchema,
          response: { 200: apiKeySchema, ...errors },
        },
      },
      async (request) => {
        const { principal } = request;
        const { id } = request.params;
        const key = await keys.revoke(principal.projectId, id);
        request.log.info({ keyId: key.id, projectId: key.projectId }, 'API key revoked');
        return apiKeyJson(key);
      },
    );
  };
}

/**
 * No key grants more than it holds: a role above the creator's, a platform admin key from a project
 * key, or a platform admin key with a role other than owner (it is owner everywhere) is refused.
 */
function assertMayGrant(creator: Principal, key: { admin: boolean; role?: string | undefined }): void {
  if (key.admin && key.role !== undefined && key.role !== 'owner') {
    throw new EnsembleError('validation_failed', "role: a platform admin key is always 'owner'", {
      field: 'body.role',
    });
  }
  if (key.admin && !creator.admin) {
    throw new EnsembleError('forbidden', 'Only a platform admin key may create platform admin keys', {
      field: 'body.admin',
    });
  }
  const role = roleOfNewKey(key as Parameters<typeof roleOfNewKey>[0]);
  if (!creator.admin && !roleIncludes(creator.role, role)) {
    throw new EnsembleError('forbidden', `A '${creator.role}' key may not create a '${role}' key`, {
      field: 'body.role',
    });
  }
}
