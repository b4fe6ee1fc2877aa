import { parseModelRef, validationError } from '@ensemble/core';
import { z } from 'zod';
import type { NameSegments } from '../models/model-name-params.ts';

const segment = z.string().min(1).max(200);
const documentedName = segment.meta({
  description: "The route's name. Write its '/' as is (/api/routes/team/chat) or encoded as %2F.",
});

/**
 * Route names have a model name's grammar (clients send them in `model`), `/` included, so like
 * `/api/models` each path is registered once per segment count; the one-segment form is documented.
 */
export function routePath(depth: number, suffix = ''): string {
  const names = ['name', 'name2', 'name3'].slice(0, depth).map((param) => `:${param}`);
  return `/api/routes/${names.join('/')}${suffix}`;
}

/** The params schema of a path at one depth: the name's segments plus the path's own params. */
export function routeParamsSchema<S extends z.ZodRawShape>(depth: number, extra: S) {
  const shape: Record<string, z.ZodType> = { name: depth === 1 ? documentedName : segment };
  if (depth >= 2) shape.name2 = segment;
  if (depth >= 3) shape.name3 = segment;
  return z.strictObject({ ...shape, ...extra }) as unknown as z.ZodObject<
    { name: typeof segment; name2: z.ZodOptional<typeof segment>; name3: z.ZodOptional<typeof segment> } & S
  >;
}

/** The route name a URL names; a bad one is a 400 naming `params.name`. */
export function routeNameOf(params: NameSegments): string {
  const name = [params.name, params.name2, params.name3].filter((part) => part !== undefined).join('/');
  const ref = parseModelRef(name, 'params.name');
  if (ref.selector.kind !== 'default') {
    throw validationError(
      'params.name',
      'takes a route name, without @version or :alias (versions are under …/versions)',
    );
  }
  return ref.name;
}
