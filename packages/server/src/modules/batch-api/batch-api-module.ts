import { Readable } from 'node:stream';
import {
  type ArtifactOwners,
  type ArtifactStore,
  type BatchFileRepository,
  batchInferenceJobSpecSchema,
  EnsembleError,
  type JobItemStatus,
  type JobRepository,
  type ModelRepository,
  notFound,
  type RouteLookup,
  validationError,
} from '@ensemble/core';
import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { JobInputLimits } from '../jobs/job-inputs.ts';
import { submitJob } from '../jobs/submit-job.ts';
import {
  batchIdOf,
  batchObject,
  fileObject,
  jobIdOf,
  resultFileLine,
  resultFileObject,
  resultFilePattern,
} from './batch-objects.ts';
import { batchFileModel, openAiBatchItems } from './openai-batch-lines.ts';

export interface BatchApiModuleOptions {
  jobs: JobRepository;
  files: BatchFileRepository;
  models: ModelRepository;
  artifacts: ArtifactStore;
  limits: JobInputLimits;
  /** Largest file `POST /v1/files` takes. */
  uploadLimitBytes: number;
  /** A job's `model` is looked up as a route first, as `/v1` does; without it only models are accepted. */
  routes?: Pick<RouteLookup, 'current'> | undefined;
}

const tags = ['openai-batch'];
const endpoints = ['/v1/chat/completions', '/v1/embeddings'] as const;
const endpointKinds = { '/v1/chat/completions': 'chat', '/v1/embeddings': 'embedding' } as const;

const createBatchSchema = z.strictObject({
  input_file_id: z.string().min(1).max(100),
  endpoint: z.enum(endpoints, { error: 'Ensemble runs batches of /v1/chat/completions and /v1/embeddings' }),
  completion_window: z.literal('24h'),
  metadata: z.record(z.string().max(64), z.string().max(512)).nullable().optional(),
});

const listQuerySchema = z.object({
  after: z.string().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

const idParams = z.object({ id: z.string().min(1).max(100) });

/**
 * OpenAI's Files and Batch APIs under `/v1`, mapped onto batch-inference jobs, so code written for
 * OpenAI's batch endpoint runs against Ensemble unchanged: a batch is a job (`batch_<x>` is
 * `job_<x>`), its output and error files are made from the job's results when read. The model is the
 * file's `body.model` (one per batch, as OpenAI requires). Errors come in OpenAI's shape (the `/v1`
 * formatter); a bad input file is refused at creation (400 naming the line) rather than ending as a
 * `failed` batch.
 */
export function batchApiModule(options: BatchApiModuleOptions): FastifyPluginAsyncZod {
  const { jobs, files, artifacts } = options;
  return async (app) => {
    // Scoped to this plugin: only /v1/files takes multipart bodies.
    await app.register(multipart, { limits: { fileSize: options.uploadLimitBytes, files: 1, fields: 10 } });

    app.post(
      '/v1/files',
      {
        config: { scaleInProtection: true },
        schema: { tags, summary: 'Upload a file (multipart: file, purpose=batch) (OpenAI-compatible)' },
      },
      async (request, reply) => {
        if (!request.isMultipart()) {
          throw new EnsembleError('unsupported_media_type', 'upload the file as multipart/form-data', {
            field: 'headers.content-type',
          });
        }
        let purpose: string | undefined;
        let stored: { sha256: string; sizeBytes: number; filename: string } | undefined;
        for await (const part of request.parts()) {
          if (part.type === 'file') {
            if (part.fieldname !== 'file' || stored !== undefined) {
              part.file.resume();
              continue;
            }
            const info = await artifacts.put(part.file);
            if (part.file.truncated) {
              throw new EnsembleError('payload_too_large', `the file is larger than ${options.uploadLimitBytes} bytes`);
            }
            stored = { ...info, filename: part.filename || 'upload.jsonl' };
          } else if (part.fieldname === 'purpose') {
            purpose = String(part.value);
          }
        }
        if (purpose !== 'batch') throw validationError('purpose', "Ensemble takes files with purpose 'batch' only");
        if (stored === undefined) throw validationError('file', 'send the file in a part named file');
        const file = await files.create({
          projectId: request.principal.projectId,
          purpose,
          filename: stored.filename,
          bytes: stored.sizeBytes,
          sha256: stored.sha256,
        });
        return reply.send(fileObject(file));
      },
    );

    app.get(
      '/v1/files',
      {
        schema: {
          tags,
          summary: 'List uploaded files (OpenAI-compatible)',
          querystring: listQuerySchema.extend({ purpose: z.string().optional() }),
        },
      },
      async (request) => {
        const { after, limit, purpose } = request.query;
        const page = await files.list(request.principal.projectId, {
          limit,
          ...(after === undefined ? {} : { after }),
          ...(purpose === undefined ? {} : { purpose }),
        });
        const data = page.items.map(fileObject);
        return {
          object: 'list',
          data,
          first_id: data[0]?.id ?? null,
          last_id: data.at(-1)?.id ?? null,
          has_more: page.nextCursor !== undefined,
        };
      },
    );

    app.get(
      '/v1/files/:id',
      { schema: { tags, summary: 'Retrieve a file (OpenAI-compatible)', params: idParams } },
      async (request) => {
        const { projectId } = request.principal;
        const { id } = request.params;
        const result = resultFilePattern.exec(id);
        if (result !== null) {
          const job = await jobs.get(projectId, `job_${result[2]}`).catch(() => {
            throw notFound('file', id);
          });
          return resultFileObject(id, result[1] as 'out' | 'err', job);
        }
        return fileObject(await files.get(projectId, id));
      },
    );

    app.get(
      '/v1/files/:id/content',
      {
        config: { ownDeadline: true, scaleInProtection: true },
        schema: { tags, summary: 'Download a file’s content (OpenAI-compatible)', params: idParams },
      },
      async (request, reply) => {
        const { projectId } = request.principal;
        const { id } = request.params;
        const result = resultFilePattern.exec(id);
        if (result !== null) {
          const jobId = `job_${result[2]}`;
          await jobs.get(projectId, jobId).catch(() => {
            throw notFound('file', id);
          });
          const status: JobItemStatus = result[1] === 'out' ? 'succeeded' : 'failed';
          const lines = Readable.from(resultFileLines(jobs, projectId, jobId, status));
          return reply.type('application/octet-stream').send(lines as never);
        }
        const file = await files.get(projectId, id);
        return reply.type('application/octet-stream').send(Readable.from(await artifacts.open(file.sha256)) as never);
      },
    );

    app.post(
      '/v1/batches',
      {
        config: { scaleInProtection: true },
        schema: { tags, summary: 'Create a batch (OpenAI-compatible)', body: createBatchSchema },
      },
      async (request) => {
        const { input_file_id: inputFileId, endpoint, completion_window: completionWindow } = request.body;
        const metadata = request.body.metadata ?? {};
        const file = await files.get(request.principal.projectId, inputFileId).catch((error: unknown) => {
          if (EnsembleError.isInstance(error) && error.code === 'not_found') {
            throw validationError('input_file_id', `no file '${inputFileId}' in this project`);
          }
          throw error;
        });
        const model = await batchFileModel(artifacts, file.sha256, options.limits);
        const spec = batchInferenceJobSpecSchema.parse({
          type: 'batch-inference',
          model,
          inputFile: file.sha256,
          ...(Object.keys(metadata).length === 0 ? {} : { metadata }),
        });
        const expectedKind = endpointKinds[endpoint];
        // The file's items come from `items` below (its row is the project's own, found by id above).
        const submitted = await submitJob(
          { ...options, owners: batchFileOwners },
          {
            spec,
            principal: request.principal,
            source: 'openai-batch',
            sourceDetails: { endpoint, completionWindow, inputFileId },
            items: (kind) => {
              if (kind !== expectedKind) {
                throw validationError(
                  'endpoint',
                  `model '${model}' is a ${kind} model; ${endpoint} needs ${expectedKind === 'chat' ? 'a chat' : 'an embedding'} model`,
                );
              }
              return openAiBatchItems(artifacts, file.sha256, endpoint, model, kind, options.limits);
            },
          },
        );
        request.log.info({ batchId: batchIdOf(submitted.job.id), items: submitted.job.counts.total }, 'batch created');
        return batchObject(submitted.job);
      },
    );

    app.get(
      '/v1/batches',
      { schema: { tags, summary: 'List batches, newest first (OpenAI-compatible)', querystring: listQuerySchema } },
      async (request) => {
        const { after, limit } = request.query;
        const afterJob = after === undefined ? undefined : jobIdOf(after);
        const page = await jobs.list(request.principal.projectId, {
          limit,
          source: 'openai-batch',
          ...(afterJob === undefined ? {} : { after: afterJob }),
        });
        const data = page.items.map(batchObject);
        return {
          object: 'list',
          data,
          first_id: data[0]?.id ?? null,
          last_id: data.at(-1)?.id ?? null,
          has_more: page.nextCursor !== undefined,
        };
      },
    );

    app.get(
      '/v1/batches/:id',
      { schema: { tags, summary: 'Retrieve a batch (OpenAI-compatible)', params: idParams } },
      async (request) => batchObject(await jobs.get(request.principal.projectId, jobIdFor(request.params.id))),
    );

    app.post(
      '/v1/batches/:id/cancel',
      { schema: { tags, summary: 'Cancel a batch (OpenAI-compatible)', params: idParams } },
      async (request) =>
        batchObject(
          await jobs.cancel(request.principal.projectId, jobIdFor(request.params.id), request.principal.keyId),
        ),
    );
  };
}

function jobIdFor(batchId: string): string {
  const jobId = jobIdOf(batchId);
  if (jobId === undefined) throw notFound('batch', batchId);
  return jobId;
}

async function* resultFileLines(
  jobs: JobRepository,
  projectId: string,
  jobId: string,
  status: JobItemStatus,
): AsyncGenerator<string> {
  for (let afterIndex = -1; ; ) {
    const page = await jobs.results(projectId, jobId, { afterIndex, limit: 1_000, status });
    if (page.length === 0) return;
    yield page.map((result) => resultFileLine(jobId, result)).join('');
    if (page.length < 1_000) return;
    afterIndex = page.at(-1)?.index as number;
  }
}

/** A batch job reads its items from the project's own batch file, never an `inputFile` upload. */
const batchFileOwners: ArtifactOwners = {
  record: async () => {},
  owns: async () => false,
  list: async () => new Set(),
};
