import { Readable } from 'node:stream';
import {
  type ArtifactStore,
  type JobRepository,
  type JobSpec,
  jobSpecSchema,
  type ModelRepository,
  validationError,
} from '@ensemble/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { openAiErrorBodySchema } from '../../errors/openai-error-body.ts';
import type { JobInputLimits } from './job-inputs.ts';
import {
  jobJson,
  jobListSchema,
  jobParamsSchema,
  jobSchema,
  listJobsQuerySchema,
  resultsQuerySchema,
  submitHeadersSchema,
} from './job-schemas.ts';
import { resultLines } from './results-lines.ts';
import { submitJob } from './submit-job.ts';

export interface JobsModuleOptions {
  jobs: JobRepository;
  models: ModelRepository;
  /** Where `inputFile` uploads are read from (`/api/artifacts`). */
  artifacts: ArtifactStore;
  limits: JobInputLimits;
}

const errors = {
  400: openAiErrorBodySchema,
  401: openAiErrorBodySchema,
  403: openAiErrorBodySchema,
  404: openAiErrorBodySchema,
  409: openAiErrorBodySchema,
  503: openAiErrorBodySchema,
};
const tags = ['jobs'];

/**
 * `/api/jobs`: asynchronous jobs of the caller's project (docs/jobs.md). A submission is stored with
 * its items and its request in one transaction; the workers do the rest through the event bus.
 */
export function jobsModule(options: JobsModuleOptions): FastifyPluginAsyncZod {
  const { jobs } = options;
  return async (app) => {
    app.post(
      '/api/jobs',
      {
        // A large inline batch or input file takes a while to check and store.
        config: { scaleInProtection: true },
        schema: {
          tags,
          summary: 'Submit a job (batch-inference or embed)',
          description:
            'Inputs inline (`inputs`) or as a JSONL file uploaded to `/api/artifacts` (`inputFile`: its sha256). ' +
            'An `Idempotency-Key` header (or `idempotencyKey`) makes a retried submission answer 200 with the job ' +
            'it first created. Unknown models, bad items and malformed lines are refused (400) before anything is queued.',
          headers: submitHeadersSchema,
          body: jobSpecSchema,
          response: { 200: jobSchema, 201: jobSchema, ...errors },
        },
      },
      async (request, reply) => {
        const spec = request.body as JobSpec;
        const header = request.headers['idempotency-key'];
        if (header !== undefined && spec.idempotencyKey !== undefined && header !== spec.idempotencyKey) {
          throw validationError('headers.idempotency-key', 'differs from body.idempotencyKey; send one of them');
        }
        const idempotencyKey = header ?? spec.idempotencyKey;
        const submitted = await submitJob(options, {
          spec: { ...spec, ...(idempotencyKey === undefined ? {} : { idempotencyKey }) },
          principal: request.principal,
        });
        if (submitted.created) {
          request.log.info({ jobId: submitted.job.id, items: submitted.job.counts.total }, 'job submitted');
          return reply.code(201).send(jobJson(submitted.job));
        }
        return reply.code(200).header('idempotent-replayed', 'true').send(jobJson(submitted.job));
      },
    );

    app.get(
      '/api/jobs',
      {
        schema: {
          tags,
          summary: "List the project's jobs, newest first",
          querystring: listJobsQuerySchema,
          response: { 200: jobListSchema, ...errors },
        },
      },
      async (request) => {
        const { limit, after, status, type, model } = request.query;
        const page = await jobs.list(request.principal.projectId, {
          limit,
          ...(after === undefined ? {} : { after }),
          ...(status === undefined ? {} : { status }),
          ...(type === undefined ? {} : { type }),
          ...(model === undefined ? {} : { model }),
        });
        return { data: page.items.map((job) => jobJson(job)), nextCursor: page.nextCursor ?? null };
      },
    );

    app.get(
      '/api/jobs/:id',
      {
        schema: {
          tags,
          summary: 'Get a job: status, counts, timings, usage and cost so far',
          params: jobParamsSchema,
          response: { 200: jobSchema, ...errors },
        },
      },
      async (request) => jobJson(await jobs.get(request.principal.projectId, request.params.id)),
    );

    app.get(
      '/api/jobs/:id/results',
      {
        // A download of a big job may outlast the usual request deadline; it ends when the results do.
        config: { ownDeadline: true, scaleInProtection: true },
        schema: {
          tags,
          summary: 'Download the results so far as JSON Lines (streamed), in item order',
          description:
            'One line per item that has a result: `index`, `customId`, `status` (`succeeded` or `failed`), `error`, ' +
            '`attempts`, tokens, `costUsd`, timings, and `output` (the model’s answer in OpenAI’s shape).',
          params: jobParamsSchema,
          querystring: resultsQuerySchema,
          response: errors,
        },
      },
      async (request, reply) => {
        const { projectId } = request.principal;
        const { id } = request.params;
        // Before the first byte, so an unknown job is an ordinary 404.
        await jobs.get(projectId, id);
        const lines = Readable.from(resultLines(jobs, projectId, id, request.query.status));
        return (
          reply
            .type('application/x-ndjson; charset=utf-8')
            .header('content-disposition', `attachment; filename="${id}-results.jsonl"`)
            // A stream is sent as it is; the route's schema only describes its errors.
            .send(lines as never)
        );
      },
    );

    app.post(
      '/api/jobs/:id/cancel',
      {
        schema: {
          tags,
          summary: 'Cancel a queued or running job; items not yet run never are',
          params: jobParamsSchema,
          response: { 200: jobSchema, ...errors },
        },
      },
      async (request) => {
        const job = await jobs.cancel(request.principal.projectId, request.params.id, request.principal.keyId);
        request.log.info({ jobId: job.id }, 'job cancelled');
        return jobJson(job);
      },
    );

    app.post(
      '/api/jobs/:id/retry-failed',
      {
        schema: {
          tags,
          summary: 'Run the failed items of a job that completed with errors again',
          params: jobParamsSchema,
          response: { 202: jobSchema, ...errors },
        },
      },
      async (request, reply) => {
        const job = await jobs.retryFailed(request.principal.projectId, request.params.id, request.principal.keyId);
        request.log.info({ jobId: job.id, round: job.round }, 'failed items of a job retried');
        return reply.code(202).send(jobJson(job));
      },
    );
  };
}
