import {
  EnsembleError,
  errorOf,
  notFound,
  type PipelineDefinition,
  type PipelineHttp,
  type PipelineLimits,
  type PipelineModels,
  type PipelineRepository,
  type PipelineRetriever,
  pipelineAliasPattern,
  pipelineNamePattern,
  pipelineRolloutSchema,
  validatePipeline,
} from '@ensemble/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { clientSignal } from '../model-runtime/client-signal.ts';
import { SseWriter } from '../model-runtime/sse-writer.ts';
import type { PipelineService } from './pipeline-service.ts';

export interface PipelinesModuleOptions {
  pipelines: PipelineRepository;
  service: PipelineService;
  limits: PipelineLimits;
  /** For validation on save: what models exist and of which kind. */
  models?: Pick<PipelineModels, 'kindOf'> | undefined;
  retriever?: Pick<PipelineRetriever, 'exists'> | undefined;
  http?: Pick<PipelineHttp, 'refusal'> | undefined;
}

const tags = ['pipelines'];
const nameSchema = z
  .string()
  .regex(pipelineNamePattern, 'lowercase segments of a-z 0-9 . _ - joined by / (at most 3), e.g. rag-qa');
const nameParams = z.strictObject({ name: nameSchema });
/** `run` takes a ref: `name`, `name@3`, `name:staging`. */
const refParams = z.strictObject({ name: z.string().min(1).max(300) });
const versionParams = z.strictObject({ name: nameSchema, version: z.coerce.number().int().min(1) });
const aliasParams = z.strictObject({
  name: nameSchema,
  alias: z.string().regex(pipelineAliasPattern, 'lowercase, starting with a letter, e.g. production'),
});
const definitionSchema = z.record(z.string(), z.unknown());

/**
 * `/api/pipelines`: pipeline definitions of the caller's project, their immutable versions, aliases
 * and rollout, and runs (`POST /api/pipelines/{ref}/run`, synchronous or as Server-Sent Events).
 * Every save validates the definition against the project's models and pipelines (400 naming the step).
 */
export function pipelinesModule(options: PipelinesModuleOptions): FastifyPluginAsyncZod {
  const { pipelines, service } = options;
  const validate = (projectId: string, name: string, definition: unknown) =>
    validatePipeline(definition, {
      projectId,
      name,
      limits: options.limits,
      models: options.models,
      retriever: options.retriever,
      http: options.http,
      pipelines,
      field: 'body.definition',
    });

  return async (app) => {
    app.get(
      '/api/pipelines',
      {
        schema: {
          tags,
          summary: 'List pipelines',
          querystring: z.strictObject({
            limit: z.coerce.number().int().min(1).max(200).default(50),
            after: z.string().max(300).optional(),
          }),
        },
      },
      async (request) => {
        const page = await pipelines.list(request.principal.projectId, request.query);
        return { data: page.items, nextCursor: page.nextCursor ?? null };
      },
    );

    app.post(
      '/api/pipelines',
      {
        schema: {
          tags,
          summary: 'Create a pipeline (its version 1)',
          body: z.strictObject({
            name: nameSchema,
            description: z.string().max(2_000).default(''),
            definition: definitionSchema,
          }),
        },
      },
      async (request, reply) => {
        const { projectId, keyId } = request.principal;
        const { name, description, definition } = request.body;
        const checked = await validate(projectId, name, definition);
        const version = await pipelines.create(projectId, name, checked, description, keyId ?? 'api');
        return reply.code(201).send(version);
      },
    );

    app.post(
      '/api/pipelines/validate',
      {
        schema: {
          tags,
          summary: 'Check a definition without saving it',
          body: z.strictObject({ name: nameSchema.default('draft'), definition: definitionSchema }),
        },
      },
      async (request) => {
        const definition = await validate(request.principal.projectId, request.body.name, request.body.definition);
        return { valid: true, definition };
      },
    );

    app.get(
      '/api/pipelines/:name',
      { schema: { tags, summary: 'Get a pipeline', params: nameParams } },
      async (request) => {
        const { projectId } = request.principal;
        const stored = await pipelines.get(projectId, request.params.name);
        if (stored === undefined) throw notFound('pipeline', request.params.name);
        const versions = await pipelines.versions(projectId, request.params.name);
        return { ...stored, versions: versions.map(({ definition: _definition, ...summary }) => summary) };
      },
    );

    app.delete(
      '/api/pipelines/:name',
      { schema: { tags, summary: 'Delete a pipeline, its versions and aliases', params: nameParams } },
      async (request, reply) => {
        await pipelines.delete(request.principal.projectId, request.params.name);
        return reply.code(204).send();
      },
    );

    app.get(
      '/api/pipelines/:name/versions',
      { schema: { tags, summary: 'Versions, newest first (at most 100)', params: nameParams } },
      async (request) => {
        const { projectId } = request.principal;
        if ((await pipelines.get(projectId, request.params.name)) === undefined) {
          throw notFound('pipeline', request.params.name);
        }
        return { data: await pipelines.versions(projectId, request.params.name) };
      },
    );

    app.post(
      '/api/pipelines/:name/versions',
      {
        schema: {
          tags,
          summary: 'Save a new version (immutable)',
          params: nameParams,
          body: z.strictObject({ description: z.string().max(2_000).optional(), definition: definitionSchema }),
        },
      },
      async (request, reply) => {
        const { projectId, keyId } = request.principal;
        const checked = await validate(projectId, request.params.name, request.body.definition);
        const version = await pipelines.addVersion(
          projectId,
          request.params.name,
          checked,
          request.body.description,
          keyId ?? 'api',
        );
        return reply.code(201).send(version);
      },
    );

    app.get(
      '/api/pipelines/:name/versions/:version',
      { schema: { tags, summary: 'One version', params: versionParams } },
      async (request) => {
        const { name, version } = request.params;
        const found = await pipelines.version(request.principal.projectId, name, version);
        if (found === undefined) throw notFound('pipeline version', `${name}@${version}`);
        return found;
      },
    );

    app.put(
      '/api/pipelines/:name/aliases/:alias',
      {
        schema: {
          tags,
          summary: 'Point an alias (production, staging, ...) at a version',
          params: aliasParams,
          body: z.strictObject({ version: z.number().int().min(1) }),
        },
      },
      async (request) => {
        const { name, alias } = request.params;
        await pipelines.setAlias(request.principal.projectId, name, alias, request.body.version);
        return { name, alias, version: request.body.version };
      },
    );

    app.delete(
      '/api/pipelines/:name/aliases/:alias',
      { schema: { tags, summary: 'Delete an alias', params: aliasParams } },
      async (request, reply) => {
        await pipelines.deleteAlias(request.principal.projectId, request.params.name, request.params.alias);
        return reply.code(204).send();
      },
    );

    app.put(
      '/api/pipelines/:name/rollout',
      {
        schema: {
          tags,
          summary: 'Canary split and shadow between versions (for calls by bare name)',
          params: nameParams,
          body: pipelineRolloutSchema,
        },
      },
      async (request) => {
        const rollout = request.body;
        const empty = rollout.canary === undefined && rollout.shadow === undefined;
        await pipelines.setRollout(request.principal.projectId, request.params.name, empty ? null : rollout);
        return { name: request.params.name, rollout: empty ? null : rollout };
      },
    );

    app.post(
      '/api/pipelines/:name/run',
      {
        config: { ownDeadline: true, scaleInProtection: true },
        schema: {
          tags,
          summary: 'Run a pipeline: `name`, `name@3` or `name:alias`',
          description:
            'Synchronous by default: the output and the run id (its trace is at /api/runs/{id}). With `stream: true` ' +
            'the answer is `text/event-stream`: `run.started`, then `step.started` / `step.finished` / `step.retrying` ' +
            'and `token` events, then `run.finished` (the output) or `run.failed` (the error, naming the step).',
          params: refParams,
          body: z.strictObject({ input: z.unknown().default({}), stream: z.boolean().default(false) }),
        },
      },
      async (request, reply) => {
        const { projectId, keyId } = request.principal;
        const signal = clientSignal(reply);
        if (!request.body.stream) {
          const started = await service.start({
            projectId,
            keyId,
            ref: request.params.name,
            input: request.body.input,
            source: 'api',
            signal,
            field: 'params.name',
          });
          reply.header('x-ensemble-run-id', started.runId);
          const result = await started.result;
          return {
            runId: started.runId,
            pipeline: started.pipeline.name,
            version: started.pipeline.version,
            status: 'succeeded',
            output: result.output,
          };
        }
        const sse = new SseWriter(reply.raw);
        const queue: Array<{ event: string; data: unknown }> = [];
        let wake: (() => void) | undefined;
        const push = (event: string, data: unknown) => {
          queue.push({ event, data });
          wake?.();
        };
        const started = await service.start({
          projectId,
          keyId,
          ref: request.params.name,
          input: request.body.input,
          source: 'api',
          signal,
          field: 'params.name',
          onEvent: (event) => push(event.type, event),
        });
        reply.hijack();
        sse.open({ 'x-ensemble-run-id': started.runId, 'x-request-id': request.id });
        await sse.send('run.started', {
          runId: started.runId,
          pipeline: started.pipeline.name,
          version: started.pipeline.version,
        });
        let ended = false;
        started.result.then(
          (result) => push('run.finished', { runId: started.runId, output: result.output }),
          (error: unknown) => {
            const failure = errorOf(error);
            const step = EnsembleError.isInstance(error) ? error.details?.step : undefined;
            push('run.failed', {
              runId: started.runId,
              error: { ...failure, ...(step === undefined ? {} : { step }) },
            });
          },
        );
        while (!ended) {
          if (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          for (const item of queue.splice(0)) {
            await sse.send(item.event, item.data);
            if (item.event === 'run.finished' || item.event === 'run.failed') ended = true;
          }
        }
        sse.end();
        return reply;
      },
    );
  };
}

export type { PipelineDefinition };
