import { EnsembleError } from '../errors/ensemble-error.ts';
import type { ModelDescriptor } from './model-descriptor.ts';

/** The model names a provider that is not installed here (a typo, or a provider not yet wired). */
export function unknownProviderError(descriptor: ModelDescriptor, known: readonly string[]): EnsembleError {
  return new EnsembleError(
    'validation_failed',
    `provider: model '${descriptor.name}' names provider '${descriptor.provider}', which is not installed here; known providers: ${known.join(', ')}`,
    { field: 'provider', details: { model: descriptor.name, provider: descriptor.provider, known: [...known] } },
  );
}

/** An operation the model's kind cannot do, e.g. embedding with a chat model: the caller's mistake. */
export function wrongKindError(
  name: string,
  kind: string,
  expected: string,
  hint?: string,
  field = 'kind',
): EnsembleError {
  return new EnsembleError(
    'validation_failed',
    `${field}: model '${name}' is ${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} model, not ${expected}${hint === undefined ? '' : `; ${hint}`}`,
    { field, details: { model: name, kind, expected } },
  );
}

/** Retired models still resolve (so callers learn why) but are never served. */
export function retiredError(name: string): EnsembleError {
  return new EnsembleError(
    'conflict',
    `model '${name}' is retired and is not served; register a new model or version to use it again`,
    { details: { model: name, status: 'retired' } },
  );
}

/** The credential a model refers to is not stored in its project. */
export function missingCredentialError(descriptor: ModelDescriptor, credential: string): EnsembleError {
  return new EnsembleError(
    'validation_failed',
    `credential: model '${descriptor.name}' uses credential '${credential}', which does not exist in project '${descriptor.projectId}'; store it with POST /api/credentials`,
    { field: 'credential', details: { model: descriptor.name, credential, project: descriptor.projectId } },
  );
}

/** A health probe that took longer than the manager allows. */
export function healthTimeoutError(name: string, timeoutMs: number): EnsembleError {
  return new EnsembleError('timeout', `health check of model '${name}' took longer than ${timeoutMs} ms`, {
    details: { model: name, timeoutMs },
  });
}
