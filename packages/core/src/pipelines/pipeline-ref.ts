import { EnsembleError } from '../errors/ensemble-error.ts';

/** `name`, `name@3` or `name:alias`, as clients write a pipeline. */
export type PipelineRef =
  | { name: string; version: number; alias?: undefined }
  | { name: string; alias: string; version?: undefined }
  | { name: string; version?: undefined; alias?: undefined };

export const pipelineNamePattern =
  /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?(?:\/[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?){0,2}$/;
export const pipelineAliasPattern = /^[a-z][a-z0-9_-]{0,62}$/;

export function parsePipelineRef(ref: string, field = 'pipeline'): PipelineRef {
  const at = ref.lastIndexOf('@');
  const colon = ref.lastIndexOf(':');
  const name = at >= 0 ? ref.slice(0, at) : colon >= 0 ? ref.slice(0, colon) : ref;
  if (!pipelineNamePattern.test(name)) {
    throw new EnsembleError(
      'validation_failed',
      `${field}: '${ref}' is not a pipeline name (lowercase segments of a-z 0-9 . _ - joined by /, at most 3), optionally with @version or :alias`,
      { field },
    );
  }
  if (at >= 0) {
    const version = Number(ref.slice(at + 1));
    if (!Number.isInteger(version) || version < 1) {
      throw new EnsembleError('validation_failed', `${field}: '${ref}': a version is a positive integer`, { field });
    }
    return { name, version };
  }
  if (colon >= 0) {
    const alias = ref.slice(colon + 1);
    if (!pipelineAliasPattern.test(alias)) {
      throw new EnsembleError(
        'validation_failed',
        `${field}: '${ref}': an alias is lowercase, starting with a letter`,
        {
          field,
        },
      );
    }
    return { name, alias };
  }
  return { name };
}
