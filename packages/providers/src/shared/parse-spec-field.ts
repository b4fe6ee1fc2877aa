import { validationError } from '@ensemble/core';
import type { z } from 'zod';

/**
 * Validates one part of a runtime spec (`options`, `parameters`) and names the faulty field in the
 * error (`options.region`, `parameters.temperature`), so a wrong registry entry says what to fix.
 */
export function parseSpecField<Schema extends z.ZodType>(
  schema: Schema,
  value: unknown,
  field: string,
  model: string,
): z.output<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (issue === undefined) throw validationError(field, `invalid for model '${model}'`);
  const path = [field, ...issue.path.map(String)];
  if (issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined) {
    path.push(issue.keys[0]);
    throw validationError(path.join('.'), `is not a setting this provider knows (model '${model}')`);
  }
  throw validationError(path.join('.'), `${issue.message} (model '${model}')`);
}
