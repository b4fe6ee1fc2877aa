import type { FastifySchemaValidationError } from 'fastify';

/** One failing field, safe to send: no input values, only where and why. */
export interface ValidationIssue {
  /** `body.name`, `querystring.limit`, `body.items[0].role`. */
  param: string;
  code: string;
  message: string;
}

/**
 * Names each failing field of a Fastify validation error, whether the validator was zod (through
 * fastify-type-provider-zod) or Ajv. `context` is Fastify's `validationContext`: body, querystring,
 * params or headers.
 */
export function validationIssues(
  context: string | undefined,
  errors: readonly FastifySchemaValidationError[],
): ValidationIssue[] {
  const root = context ?? 'request';
  return errors.flatMap((error) => {
    const base = joinPath(root, segmentsOf(error.instancePath));
    const params = error.params as Record<string, unknown>;
    // zod's strict objects report every unknown key in one issue; name each field on its own.
    if (error.keyword === 'unrecognized_keys' && isStringArray(params.keys)) {
      return params.keys.map((key) => ({
        param: joinPath(base, [key]),
        code: 'unknown_field',
        message: 'unknown field',
      }));
    }
    // Ajv puts the missing or extra property in params rather than in the path.
    if (error.keyword === 'required' && typeof params.missingProperty === 'string') {
      return [{ param: joinPath(base, [params.missingProperty]), code: 'required', message: 'is required' }];
    }
    if (error.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
      return [{ param: joinPath(base, [params.additionalProperty]), code: 'unknown_field', message: 'unknown field' }];
    }
    return [{ param: base, code: error.keyword, message: error.message ?? 'is invalid' }];
  });
}

function segmentsOf(instancePath: string): string[] {
  return instancePath
    .split('/')
    .filter((segment) => segment !== '')
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function joinPath(base: string, segments: readonly string[]): string {
  let path = base;
  for (const segment of segments) path += /^\d+$/.test(segment) ? `[${segment}]` : `.${segment}`;
  return path;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
