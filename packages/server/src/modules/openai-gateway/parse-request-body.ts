import { validationError } from '@ensemble/core';
import type { z } from 'zod';

/**
 * Checks a body that passed the route's loose envelope against a stricter schema (what a LangChain
 * runtime can take), answering a 400 that names the first failing field as route validation does.
 */
export function parseRequestBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    param: issue.path.reduce<string>(
      (path, segment) => (typeof segment === 'number' ? `${path}[${segment}]` : `${path}.${String(segment)}`),
      'body',
    ),
    code: issue.code,
    message: issue.message,
  }));
  const first = issues[0];
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more issue${issues.length > 2 ? 's' : ''})` : '';
  throw validationError(first?.param ?? 'body', `${first?.message ?? 'is invalid'}${more}`, { issues });
}
