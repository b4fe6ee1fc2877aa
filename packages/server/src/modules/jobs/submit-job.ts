import {
  type ArtifactOwners,
  type ArtifactStore,
  assertModelAllowed,
  type JobItemInput,
  type JobModelKind,
  type JobRepository,
  type JobSource,
  type JobSpec,
  type ModelRepository,
  type Principal,
  type RouteLookup,
  type SubmittedJob,
} from '@ensemble/core';
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
 * Everything that can be wrong with it — an unknown model or route, a model of the wrong kind, a bad item or
 * file line — is a 400 before anything is queued.
 */
export async function submitJob(dependencies: SubmitJobDependencies, submission: JobSubmission): Promise<SubmittedJob> {
  const { spec, principal } = submission;
  assertModelAllowed(principal, spec.model, 'body.model');
  const target = await resolveJobTarget(
    dependencies.models,
    dependencies.routes,
    principal.projectId,
    spec.type,
    spec.model,
  );
  const { kind } = target;
  const items = submission.items
    ? submission.items(kind)
    : await jobInputs(spec, kind, dependencies.limits, dependencies.artifacts, (sha256) =>
        dependencies.owners.owns(principal.projectId, sha256),
      );
  const { idempotencyKey, ...request } = spec;
  return dependencies.jobs.submit(
    {
      projectId: principal.projectId,
      type: spec.type,
      model: spec.model,
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
