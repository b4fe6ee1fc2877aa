import {
  type ArtifactOwners,
  type ArtifactStore,
  assertModelAllowed,
  type JobItemInput,
  type JobModelKind,
  type JobRepository,
  type JobSource,
  type JobSpec,
  type JobTarget,
  type ModelRepository,
  type Principal,
  type RouteLookup,
  type SubmittedJob,
  validationError,
} from '@ensemble/core';
import type { PipelineService } from '../pipelines/pipeline-service.ts';
import { canonicalSha256 } from './canonical-json.ts';
import { type JobInputLimits, jobInputs } from './job-inputs.ts';
import { resolveJobTarget } from './resolve-job-target.ts';

export interface SubmitJobDependencies {
  jobs: JobRepository;
  models: ModelRepository;
  artifacts: ArtifactStore;
  /** Which project uploaded which file: `inputFile` must be one of the caller's project's uploads. */
  owners: ArtifactOwners;
  limits: JobInputLimits;
  /** Where a job's `model` is looked up as a route first (as `/v1` does); without it only models are accepted. */
  routes?: Pick<RouteLookup, 'current'> | undefined;
  /** Where a `pipeline-run` job's pipeline is pinned and its items' inputs checked; without it such jobs are refused. */
  pipelines?: Pick<PipelineService, 'pin' | 'checkInput'> | undefined;
}

export interface JobSubmission {
  spec: JobSpec;
  principal: Principal;
  source?: JobSource;
  sourceDetails?: Record<string, unknown> | null;
  /** Items read another way than `inputs`/`inputFile` (OpenAI's batch file format), checked against the model's kind. */
  items?: (kind: JobModelKind) => AsyncIterable<readonly JobItemInput[]>;
}

/**
 * Checks a job spec against the registry and the caller's key, then stores it with its items.
 * Everything that can be wrong with it — an unknown model, route or pipeline, a model of the wrong kind,
 * a bad item or file line (an input the pipeline's schema refuses) — is a 400 before anything is queued.
 */
export async function submitJob(dependencies: SubmitJobDependencies, submission: JobSubmission): Promise<SubmittedJob> {
  const { spec, principal } = submission;
  const owned = (sha256: string) => dependencies.owners.owns(principal.projectId, sha256);
  let target: JobTarget;
  let items: AsyncIterable<readonly JobItemInput[]>;
  let model: string;
  if (spec.type === 'pipeline-run') {
    // A pipeline is called as `pipeline/<name>` in /v1: a key limited to some names needs that one.
    assertModelAllowed(principal, `pipeline/${spec.pipeline}`, 'body.pipeline');
    const pipelines = dependencies.pipelines;
    if (pipelines === undefined) {
      throw validationError('body.type', 'pipeline-run jobs need pipelines, which this server does not run');
    }
    const pipeline = await pipelines.pin(principal.projectId, spec.pipeline, 'body.pipeline');
    target = { type: 'pipeline', name: pipeline.name, version: pipeline.version, kind: 'pipeline' };
    model = spec.pipeline;
    items = await jobInputs(
      { type: 'pipeline-run', checkInput: (input) => pipelines.checkInput(pipeline, input) },
      spec,
      dependencies.limits,
      dependencies.artifacts,
      owned,
    );
  } else {
    assertModelAllowed(principal, spec.model, 'body.model');
    const resolved = await resolveJobTarget(
      dependencies.models,
      dependencies.routes,
      principal.projectId,
      spec.type,
      spec.model,
    );
    const kind = resolved.kind as JobModelKind;
    target = resolved;
    model = spec.model;
    items = submission.items
      ? submission.items(kind)
      : await jobInputs(
          { type: spec.type, kind, model: spec.model },
          spec,
          dependencies.limits,
          dependencies.artifacts,
          owned,
        );
  }
  const { idempotencyKey, ...request } = spec;
  return dependencies.jobs.submit(
    {
      projectId: principal.projectId,
      type: spec.type,
      model,
      target,
      priority: spec.priority,
      itemTimeoutMs: spec.itemTimeoutMs,
      retry: spec.retry,
      webhook: spec.webhook ?? null,
      metadata: spec.metadata ?? {},
      idempotencyKey: idempotencyKey ?? null,
      requestSha256: canonicalSha256(request),
      source: submission.source ?? 'api',
      sourceDetails: submission.sourceDetails ?? null,
      createdBy: principal.keyId,
    },
    items,
  );
}
