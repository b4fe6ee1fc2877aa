import { setTimeout as sleep } from 'node:timers/promises';
import { EnsembleError, type ErrorCode, errorCatalogue } from '@ensemble/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { openAiErrorBodySchema } from '../errors/openai-error-body.ts';

const errorCodes = Object.keys(errorCatalogue) as [ErrorCode, ...ErrorCode[]];

export const testItemSchema = z.strictObject({
  name: z.string().min(1),
  count: z.number().int().nonnegative(),
  tags: z.array(z.string()).optional(),
});

/** Fake routes for the server's tests only: every way a request can be wrong, and every way a handler can fail. */
export const testModule = {
  prefix: '/test',
  plugin: (async (app) => {
    app.post(
      '/items',
      {
        schema: {
          summary: 'Create an item (test only)',
          body: testItemSchema,
          response: { 201: z.object({ id: z.string(), name: z.string() }), 400: openAiErrorBodySchema },
        },
      },
      async (request, reply) => reply.code(201).send({ id: 'item-1', name: request.body.name }),
    );

    app.get(
      '/items',
      { schema: { querystring: z.object({ limit: z.coerce.number().int().min(1).max(100) }) } },
      async (request) => ({ limit: request.query.limit }),
    );

    app.get('/throw', async () => {
      throw new Error('connection to postgres://admin:hunter2@db failed');
    });

    app.get('/throw-string', async () => {
      throw 'not even an Error';
    });

    app.get(
      '/ensemble/:code',
      {
        schema: {
          params: z.object({ code: z.enum(errorCodes) }),
          querystring: z.object({ field: z.string().optional(), retryAfter: z.coerce.number().optional() }),
        },
      },
      async (request) => {
        const { field, retryAfter } = request.query;
        throw new EnsembleError(request.params.code, `failure ${request.params.code}`, {
          ...(field === undefined ? {} : { field }),
          ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }),
          details: { hint: 'test' },
        });
      },
    );

    app.get(
      '/slow',
      { schema: { querystring: z.object({ ms: z.coerce.number().int().nonnegative() }) } },
      async (request) => {
        await sleep(request.query.ms);
        return { slept: request.query.ms };
      },
    );

    app.get('/hang', { handlerTimeout: 100 }, async () => {
      await sleep(10_000, undefined, { ref: false });
      return { never: true };
    });

    app.get('/bad-response', { schema: { response: { 200: z.object({ id: z.string() }) } } }, async () => {
      return { id: 42 } as unknown as { id: string };
    });

    app.get('/hidden', { schema: { hide: true } }, async () => ({ hidden: true }));

    app.get('/ip', async (request) => ({ ip: request.ip, protocol: request.protocol }));
  }) satisfies FastifyPluginAsyncZod,
};
