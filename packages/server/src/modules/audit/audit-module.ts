import type { AuditEntry, AuditLog } from '@ensemble/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { openAiErrorBodySchema } from '../../errors/openai-error-body.ts';

const errors = {
  400: openAiErrorBodySchema,
  401: openAiErrorBodySchema,
  403: openAiErrorBodySchema,
  503: openAiErrorBodySchema,
};

const auditEntrySchema = z
  .object({
    id: z.string(),
    at: z.iso.datetime(),
    projectId: z.string(),
    actorKeyId: z.string().nullable(),
    actorUserId: z.string().nullable().optional(),
    actorRole: z.string().nullable(),
    sourceIp: z.string().nullable(),
    action: z.string(),
    resourceType: z.string(),
    resourceId: z.string().nullable(),
    route: z.string(),
    status: z.number().int(),
    requestId: z.string(),
    before: z.unknown(),
    after: z.unknown(),
  })
  .meta({ id: 'AuditEntry' });

const auditQuerySchema = z
  .strictObject({
    action: z.string().max(200).optional(),
    resourceType: z.string().max(100).optional(),
    resourceId: z.string().max(1000).optional(),
    actorKeyId: z.string().max(100).optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    after: z.string().max(30).optional(),
  })
  .refine((query) => query.from === undefined || query.to === undefined || query.from < query.to, {
    path: ['from'],
    message: 'must be before to',
  });

function entryJson(entry: AuditEntry) {
  return { ...entry, at: entry.at.toISOString(), before: entry.before ?? null, after: entry.after ?? null };
}

/** `GET /api/audit`: the project's administrative changes, newest first, with filters (admin role). */
export function auditModule(log: AuditLog): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/audit',
      {
        schema: {
          tags: ['audit'],
          summary: "The project's audit log, newest first (admin role)",
          description:
            'Every administrative change (keys, models, aliases, routes, credentials, limits, projects, pipelines, collections) with who, what, when, from where, and the state before and after (secrets redacted). Filters: action, resourceType, resourceId, actorKeyId, from, to; pages with limit and after=<nextCursor>.',
          querystring: auditQuerySchema,
          response: {
            200: z.object({ data: z.array(auditEntrySchema), nextCursor: z.string().nullable() }),
            ...errors,
          },
        },
      },
      async (request) => {
        const { from, to, after, ...filters } = request.query;
        const page = await log.list({
          projectId: request.principal.projectId,
          ...Object.fromEntries(Object.entries(filters).filter(([, value]) => value !== undefined)),
          limit: request.query.limit,
          ...(from === undefined ? {} : { from: new Date(from) }),
          ...(to === undefined ? {} : { to: new Date(to) }),
          ...(after === undefined ? {} : { after }),
        } as Parameters<AuditLog['list']>[0]);
        return { data: page.items.map(entryJson), nextCursor: page.nextCursor ?? null };
      },
    );
  };
}
