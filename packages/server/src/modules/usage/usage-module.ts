import { type UsageBucket, type UsageFilters, type UsageLedger, usageMaxSpanMs, validationError } from '@ensemble/core';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { openAiErrorBodySchema } from '../../errors/openai-error-body.ts';
import { projectHeader } from '../../plugins/authentication.ts';
import {
  usageQuerySchema,
  usageRecordJson,
  usageRecordListSchema,
  usageRecordsQuerySchema,
  usageSummarySchema,
} from './usage-schemas.ts';

const errors = {
  400: openAiErrorBodySchema,
  401: openAiErrorBodySchema,
  403: openAiErrorBodySchema,
  503: openAiErrorBodySchema,
};
const tags = ['usage'];
const defaultSpanMs = 24 * 3_600_000;
const scopeNote =
  'A key sees its own project. An admin key sees every project, or the one it names in x-ensemble-project. The ledger is written off the request path: the last second or so of calls may not be counted yet.';

/**
 * `/api/usage`: the usage ledger, summed over a time range by bucket and optional groups, and its raw
 * rows page by page (newest first).
 */
export function usageModule(ledger: UsageLedger): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/usage',
      {
        schema: {
          tags,
          summary: 'Usage over a time range: requests, errors, tokens, cost, latency percentiles, cache hits',
          description: scopeNote,
          querystring: usageQuerySchema,
          response: { 200: usageSummarySchema, ...errors },
        },
      },
      async (request) => {
        const { from: fromText, to: toText, bucket, groupBy = [], ...filters } = request.query;
        const { from, to } = timeRange(fromText, toText, bucket);
        const scope = scopeOf(request, filters);
        const summary = await ledger.summarize({ ...scope, from, to, bucket, groupBy });
        return {
          from: from.toISOString(),
          to: to.toISOString(),
          bucket,
          groupBy,
          projectId: scope.projectId,
          totals: summary.totals,
          series: summary.series.map(({ bucketStart, ...row }) => ({ bucketStart: bucketStart.toISOString(), ...row })),
        };
      },
    );

    app.get(
      '/api/usage/records',
      {
        schema: {
          tags,
          summary: 'Usage records one by one, newest first',
          description: scopeNote,
          querystring: usageRecordsQuerySchema,
          response: { 200: usageRecordListSchema, ...errors },
        },
      },
      async (request) => {
        const { from: fromText, to: toText, limit, after, ...filters } = request.query;
        const { from, to } = timeRange(fromText, toText, 'day');
        const page = await ledger.listRecords({
          ...scopeOf(request, filters),
          from,
          to,
          limit,
          ...(after === undefined ? {} : { after }),
        });
        return { data: page.items.map(usageRecordJson), nextCursor: page.nextCursor ?? null };
      },
    );
  };
}

/** Defaults to the last 24 hours; refuses an empty or reversed range, or one too long for its bucket. */
function timeRange(
  fromText: string | undefined,
  toText: string | undefined,
  bucket: UsageBucket,
): { from: Date; to: Date } {
  const to = toText === undefined ? new Date() : new Date(toText);
  const from = fromText === undefined ? new Date(to.getTime() - defaultSpanMs) : new Date(fromText);
  if (from.getTime() >= to.getTime()) throw validationError('querystring.from', 'must be before to');
  const maxSpanMs = usageMaxSpanMs[bucket];
  if (to.getTime() - from.getTime() > maxSpanMs) {
    throw validationError(
      'querystring.from',
      `the range may span at most ${maxSpanMs / 3_600_000} hours with bucket=${bucket}: narrow it or use a coarser bucket`,
    );
  }
  return { from, to };
}

/** The project counted: the key's, or for an admin key every project unless it names one. */
function scopeOf(
  request: FastifyRequest,
  filters: { model?: string; requested?: string; route?: string; key?: string; status?: number },
): UsageFilters {
  const { principal } = request;
  const projectId = principal.admin && request.headers[projectHeader] === undefined ? null : principal.projectId;
  const { key, ...rest } = filters;
  return { projectId, ...dropUndefined(rest), ...(key === undefined ? {} : { keyId: key }) };
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
