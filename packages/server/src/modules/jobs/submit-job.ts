import {
  type ArtifactOwners,
  type ArtifactStore,
  assertModelAllowed,
  EnsembleError,
  type JobItemInput,
  type JobModelKind,
  type JobRepository,
  type JobSource,
  type JobSpec,
  type ModelDescriptor,
  type ModelRepository,
  type Principal,
  type SubmittedJob,
  validationError,
} from '@ensemble/core';
import { canonicalSha256 } from './canonical-json.ts';
import { type JobInputLimits, jobInputs } from './job-inputs.ts';

export interface SubmitJobDependencies {
  jobs: JobRepository;
  models: ModelRepository;
  artifacts: ArtifactStore;
  /** Which project uploaded which file: `inputFile` must be one of the caller's project's uploads. */
  owners: ArtifactOwners;
  limits: JobInputLimits;
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
 * Everything that can be wrong with it — an unknown model, a model of the wrong kind, a bad item or
 * file line — is a 400 before anything is queued.
 */
export async function submitJob(dependencies: SubmitJobDependencies, submission: JobSubmission): Promise<SubmittedJob> {
  const { spec, principal } = submission;
  assertModelAllowed(principal, spec.model, 'body.model');
  const descriptor = await resolveModel(dependencies.models, principal.projectId, spec.model);
  const kind = jobModelKind(spec, descriptor);
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
      target: { name: descriptor.name, version: descriptor.version, kind },
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

async function resolveModel(models: ModelRepository, projectId: string, name: string): Promise<ModelDescriptor> {
  let descriptor: ModelDescriptor;
  try {
    descriptor = await models.resolve(projectId, name);
  } catch (error) {
    // On a job the model is part of the request: a missing one makes the request invalid (400), not a 404.
    if (EnsembleError.isInstance(error) && (error.code === 'not_found' || error.code === 'validation_failed')) {
      throw validationError('body.model', error.message);
    }
    throw error;
  }
  if (descriptor.status === 'retired') {
    throw validationError('body.model', `model '${descriptor.name}' is retired`);
  }
  return descriptor;
}

function jobModelKind(spec: JobSpec, descriptor: ModelDescriptor): JobModelKind {
  const { kind, name } = descriptor;
  if (spec.type === 'embed') {
    if (kind !== 'embedding') {
      throw validationError('body.model', `model '${name}' is a ${kind} model; an embed job needs an embedding model`);
    }
    return 'embedding';
  }
  if (kind !== 'chat' && kind !== 'embedding') {
    throw validationError(
      'body.model',
      `model '${name}' is a ${kind} model; batch-inference runs chat and embedding models`,
    );
  }
  return kind;
}
