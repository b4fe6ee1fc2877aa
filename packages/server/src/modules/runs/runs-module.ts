import { notFound, type RunStore, runStatuses, type StepRecord } from '@ensemble/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { PipelineService } from '../pipelines/pipeline-service.ts';

const tags = ['runs'];
const idParams = z.strictObject({
  id: z.string().regex(/^run_[A-Za-z0-9]{20}$/, 'a run id: run_ and 20 letters or digits'),
});

/** A step and the steps it ran (branch cases, map items, parallel branches, nested pipelines, fallbacks). */
export interface StepNode extends StepRecord {
  steps: StepNode[];
}

/** The flat step records as a tree by `parentPath`, each level in the order the steps started. */
export function stepTree(records: readonly StepRecord[]): StepNode[] {
  const nodes = new Map<string, StepNode>(records.map((record) => [record.path, { ...record, steps: [] }]));
  const roots: StepNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.parentPath === null ? undefined : nodes.get(node.parentPath);
    (parent?.steps ?? roots).push(node);
  }
  return roots;
}

/** `/api/runs`: pipeline runs of the caller's project and their traces. */
export function runsModule(runs: RunStore, service: PipelineService): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/runs',
      {
        schema: {
          tags,
          summary: 'List pipeline runs, newest first',
          querystring: z.strictObject({
            pipeline: z.string().max(300).optional(),
            status: z.enum(runStatuses).optional(),
            jobId: z
              .string()
              .regex(/^job_[A-Za-z0-9]{20}$/, 'must be a job id such as job_AbCdEfGhIjKlMnOpQrSt')
              .optional(),
            limit: z.coerce.number().int().min(1).max(200).default(50),
            after: z.string().max(40).optional(),
          }),
        },
      },
      async (request) => {
        const page = await runs.list(request.principal.projectId, request.query);
        return { data: page.items, nextCursor: page.nextCursor ?? null };
      },
    );

    app.get(
      '/api/runs/:id',
      { schema: { tags, summary: 'A run and its step tree', params: idParams } },
      async (request) => {
        const run = await runs.get(request.principal.projectId, request.params.id);
        if (run === undefined) throw notFound('run', request.params.id);
        const { steps, ...rest } = run;
        return { ...rest, steps: stepTree(steps) };
      },
    );

    app.post(
      '/api/runs/:id/cancel',
      {
        schema: {
          tags,
          summary: 'Cancel a running run, on whichever instance runs it',
          description:
            '`cancelled: true` when the run was running: it stops on the instance running it (at once, or at ' +
            'its next lease renewal) and ends `cancelled`. `false` when it had ended already.',
          params: idParams,
        },
      },
      async (request) => {
        const { projectId } = request.principal;
        const run = await runs.get(projectId, request.params.id);
        if (run === undefined) throw notFound('run', request.params.id);
        return { id: run.id, cancelled: run.status === 'running' && (await service.requestCancel(projectId, run.id)) };
      },
    );
  };
}
