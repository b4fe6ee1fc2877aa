import type { CredentialRepository, CredentialSummary } from '@ensemble/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { openAiErrorBodySchema } from '../../errors/openai-error-body.ts';
import {
  credentialListSchema,
  credentialParamsSchema,
  credentialQuerySchema,
  credentialSchema,
  listCredentialsQuerySchema,
  newCredentialBodySchema,
  rotationSchema,
} from './credential-schemas.ts';

const errors = { 400: openAiErrorBodySchema, 404: openAiErrorBodySchema, 503: openAiErrorBodySchema };
const tags = ['credentials'];

/**
 * `/api/credentials`: provider API keys of the caller's project, write-only. Bodies here are never logged (Fastify logs none,
 * and `secret` is redacted wherever it appears in a log line).
 */
export function credentialsModule(credentials: CredentialRepository): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/credentials',
      {
        schema: {
          tags,
          summary: 'List credentials (never their secrets)',
          querystring: listCredentialsQuerySchema,
          response: { 200: credentialListSchema, ...errors },
        },
      },
      async (request) => {
        const { limit, after } = request.query;
        const page = await credentials.list({
          limit,
          projectId: request.principal.projectId,
          ...(after === undefined ? {} : { after }),
        });
        return { data: page.items.map(credentialJson), nextCursor: page.nextCursor ?? null };
      },
    );

    app.post(
      '/api/credentials',
      {
        schema: {
          tags,
          summary: 'Store a credential, encrypted',
          body: newCredentialBodySchema,
          response: { 201: credentialSchema, 409: openAiErrorBodySchema, ...errors },
        },
      },
      async (request, reply) => {
        const credential = await credentials.create({ ...request.body, projectId: request.principal.projectId });
        return reply.code(201).send(credentialJson(credential));
      },
    );

    app.post(
      '/api/credentials/rotate',
      {
        // Every project's credentials at once.
        config: { adminOnly: true },
        schema: {
          tags,
          summary: 'Re-encrypt every credential under the current master key (admin keys only)',
          description:
            'Run after setting a new ENSEMBLE_MASTER_KEY with the old one in ENSEMBLE_MASTER_KEY_PREVIOUS; then the old key can go.',
          response: { 200: rotationSchema, ...errors },
        },
      },
      async () => credentials.rotate(),
    );

    app.get(
      '/api/credentials/:name',
      {
        schema: {
          tags,
          summary: 'Get a credential (never its secret)',
          params: credentialParamsSchema,
          querystring: credentialQuerySchema,
          response: { 200: credentialSchema, ...errors },
        },
      },
      async (request) => credentialJson(await credentials.get(request.principal.projectId, request.params.name)),
    );

    app.delete(
      '/api/credentials/:name',
      {
        schema: {
          tags,
          summary: 'Delete a credential',
          params: credentialParamsSchema,
          querystring: credentialQuerySchema,
          response: { 204: z.null().meta({ description: 'Deleted' }), ...errors },
        },
      },
      async (request, reply) => {
        await credentials.delete(request.principal.projectId, request.params.name);
        return reply.code(204).send(null);
      },
    );
  };
}

function credentialJson(credential: CredentialSummary) {
  return {
    ...credential,
    createdAt: credential.createdAt.toISOString(),
    updatedAt: credential.updatedAt.toISOString(),
  };
}
