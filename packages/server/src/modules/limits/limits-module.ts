import { type LimitStore, limitSettingsSchema, type StoredLimit } from '@ensemble/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { openAiErrorBodySchema } from '../../errors/openai-error-body.ts';
import type { LimitsCache } from '../../limits/limits-cache.ts';

const errors = {
  400: openAiErrorBodySchema,
  401: openAiErrorBodySchema,
  403: openAiErrorBodySchema,
  404: openAiErrorBodySchema,
  503: openAiErrorBodySchema,
};
const tags = ['limits'];

const limitSchema = z
  .object({
    keyId: z.string().nullable().meta({ description: "null: the project's own limit" }),
    settings: z.object({
      requestsPerMinute: z.number().int().optional(),
      tokensPerMinute: z.number().int().optional(),
      budget: z
        .object({
          amountUsd: z.number(),
          period: z.enum(['day', 'month']),
          warnAt: z.number(),
          webhookUrl: z.string().optional(),
        })
        .optional(),
    }),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Limit' });

const keyParamsSchema = z.strictObject({
  id: z.string().regex(/^key_[A-Za-z0-9]{16}$/, 'must be a key id such as key_AbCdEf0123456789'),
});

/** Hears of every change, for the audit log. */
export type LimitChangeListener = (change: {
  projectId: string;
  keyId: string | null;
  before: StoredLimit | undefined;
  after: StoredLimit | undefined;
  request: { principal: { keyId: string | null }; ip: string };
}) => Promise<void> | void;

function limitJson(limit: StoredLimit) {
  return { keyId: limit.keyId, settings: limit.settings, updatedAt: limit.updatedAt.toISOString() };
}

/**
 * `/api/limits`: rate limits and spend budgets of the caller's project (`PUT /api/limits`) and of its
 * keys (`PUT /api/limits/keys/{id}`). Admin role and above (the role matrix). A change applies at once
 * on this instance and within LIMITS_CACHE_TTL_MS on the others.
 */
export function limitsModule(
  store: LimitStore,
  cache: LimitsCache,
  onChange: LimitChangeListener = () => {},
): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/limits',
      {
        schema: {
          tags,
          summary: "The project's limits and its keys' (admin role)",
          response: { 200: z.object({ data: z.array(limitSchema) }), ...errors },
        },
      },
      async (request) => ({ data: (await store.list(request.principal.projectId)).map(limitJson) }),
    );

    for (const scope of ['project', 'key'] as const) {
      const url = scope === 'project' ? '/api/limits' : '/api/limits/keys/:id';
      const keyOf = (params: unknown) => (scope === 'key' ? (params as { id: string }).id : null);
      app.put(
        url,
        {
          schema: {
            tags,
            summary: scope === 'project' ? "Set the project's limits" : "Set a key's limits",
            description:
              'Replaces the limits: requestsPerMinute, tokensPerMinute, budget {amountUsd, period day|month, warnAt, webhookUrl}. A call must pass both its key and its project limits.',
            ...(scope === 'key' ? { params: keyParamsSchema } : {}),
            body: limitSettingsSchema,
            response: { 200: limitSchema, ...errors },
          },
        },
        async (request) => {
          const { projectId } = request.principal;
          const keyId = keyOf(request.params);
          const { previous, current } = await store.put(projectId, keyId, request.body);
          cache.forget(projectId);
          await onChange({ projectId, keyId, before: previous, after: current, request });
          return limitJson(current);
        },
      );
      app.delete(
        url,
        {
          schema: {
            tags,
            summary: scope === 'project' ? "Remove the project's limits" : "Remove a key's limits",
            ...(scope === 'key' ? { params: keyParamsSchema } : {}),
            response: { 200: limitSchema, ...errors },
          },
        },
        async (request) => {
          const { projectId } = request.principal;
          const keyId = keyOf(request.params);
          const removed = await store.remove(projectId, keyId);
          cache.forget(projectId);
          await onChange({ projectId, keyId, before: removed, after: undefined, request });
          return limitJson(removed);
        },
      );
    }
  };
}
