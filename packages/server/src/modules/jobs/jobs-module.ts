import { Readable } from 'node:stream';
import {
  type ArtifactOwners,
  type ArtifactStore,
  type JobEventNotifier,
  type JobRepository,
  type JobSpec,
  jobSpecSchema,
  type ModelRepository,
  type RouteLookup,
  validationError,
  type WebhookSigner,
} from '@ensemble/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { openAiErrorBodySchema } from '../../errors/openai-error-body.ts';
import type { PipelineService } from '../pipelines/pipeline-service.ts';
import { streamJobEvents } from './job-event-stream.ts';
import type { JobInputLimits } from './job-inputs.ts';
import {
  eventsHeadersSchema,
  eventsQuerySchema,
  jobJson,
  jobListSchema,
  jobParamsSchema,
  jobSchema,
  listJobsQuerySchema,
  resultsQuerySchema,
  submitHeadersSchema,
  webhookSecretSchema,
} from './job-schemas.ts';
import { resultLines } from './results-lines.ts';
import { submitJob } from './submit-job.ts';

export interface JobsModuleOptions {
  jobs: JobRepository;
  models: ModelRepository;
  /** Where `inputFile` uploads are read from (`/api/artifacts`). */
  artifacts: ArtifactStore;
  /** Which project uploaded which file (`inputFile` must be the caller's project's). */
  owners: ArtifactOwners;
  limits: JobInputLimits;
  /** Wakes `GET /api/jobs/{id}/events` streams when their job's events are stored. */
  notifier: JobEventNotifier;
  /** Signs completion webhooks; its per-project secret is shown by `GET /api/jobs/webhook-secret`. */
  signer: WebhookSigner;
  /** A job's `model` is looked up as a route first, as `/v1` does; without it only models are accepted. */
  routes?: Pick<RouteLookup, 'current'> | undefined;
  /** Pins a `pipeline-run` job's pipeline and checks its inputs; without it such jobs are refused (400). */
  pipelines?: Pick<PipelineService, 'pin' | 'checkInput'> | undefined;
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
    app.addHook('onClose', async () => {
      await options.notifier.close?.();
    });

    app.post(
      '/api/jobs',
      {
        // A large inline batch or input file takes a while to check and store.
        config: { scaleInProtection: true },
        schema: {
          tags,
          summary: 'Submit a job (batch-inference, embed or pipeline-run)',
          description:
            'Inputs inline (`inputs`) or as a JSONL file uploaded to `/api/artifacts` (`inputFile`: its sha256). ' +
            'An `Idempotency-Key` header (or `idempotencyKey`) makes a retried submission answer 200 with the job ' +
            'it first created. A `pipeline-run` job names a `pipeline` (`name`, `name@3`, `name:alias`) and runs it ' +
            'once per item (`{"input": …, "customId"?: …}`). Unknown models, routes or pipelines, bad items and ' +
            'malformed lines are refused (400) before anything is queued.',
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

    app.get(
      '/api/jobs/:id/events',
      {
        // Open as long as the job runs; it bounds itself (it ends with the job, or when the client leaves).
        config: { ownDeadline: true, scaleInProtection: true },
        schema: {
          tags,
          summary: 'Follow a job: its events as Server-Sent Events, resumable with Last-Event-ID',
          description:
            'Every state change and progress step of the job (`queued`, `started`, `progressed`, `completed`, ' +
            '`cancelled`, `retried`), numbered per job (`id:`), each with the counts and usage at that point. ' +
            'Starts after `Last-Event-ID` (or `?after=`), else from the first event; ends once the job has ended.',
          params: jobParamsSchema,
          headers: eventsHeadersSchema,
          querystring: eventsQuerySchema,
          response: errors,
        },
      },
      async (request, reply) => {
        const { projectId } = request.principal;
        const { id } = request.params;
        const header = request.headers['last-event-id'];
        const afterSeq = header === undefined ? (request.query.after ?? 0) : Number(header);
        // Before the first byte, so an unknown job is an ordinary 404.
        const job = await jobs.get(projectId, id);
        reply.hijack();
        reply.raw.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          // Proxies such as nginx buffer responses unless told not to.
          'x-accel-buffering': 'no',
          'x-request-id': request.id,
        });
        await streamJobEvents(reply.raw, {
          jobs,
          notifier: options.notifier,
          projectId,
          jobId: id,
          afterSeq,
          status: job.status,
          log: request.log,
        });
      },
    );

    app.get(
      '/api/jobs/webhook-secret',
      {
        schema: {
          tags,
          summary: "The project's webhook signing secret",
          description:
            'Every job webhook carries `Ensemble-Signature: t=<unix seconds>,v1=<hex>`: the HMAC-SHA256 of ' +
            '`<t>.<raw body>` with this secret. Check it, and that `t` is recent, before trusting a delivery.',
          response: { 200: webhookSecretSchema, ...errors },
        },
      },
      async (request, reply) =>
        reply.header('cache-control', 'no-store').send({
          secret: options.signer.secretFor(request.principal.projectId),
          algorithm: 'HMAC-SHA256' as const,
          header: 'Ensemble-Signature' as const,
        }),
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
