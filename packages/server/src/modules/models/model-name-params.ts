import { maxNameSegments, parseModelRef, validationError } from '@ensemble/core';
import { z } from 'zod';

/**
 * Model names contain `/` (`openai/gpt-4o-mini`) and users write them raw in URLs, so each route is
 * registered once per possible segment count: `/api/models/:name`, `/api/models/:name/:name2`, … The
 * one-segment form is documented (it also takes the name encoded, `openai%2Fgpt-4o-mini`); the others
 * are hidden copies. Sub-resource words (`versions`, `aliases` …) are reserved, so paths never clash.
 */
export const nameDepths: readonly number[] = Array.from({ length: maxNameSegments }, (_, i) => i + 1);

const segment = z.string().min(1).max(200);
const documentedName = segment.meta({
  description: "The model's name. Write its '/' as is (/api/models/openai/gpt-4o-mini) or encoded as %2F.",
});

export interface NameSegments {
  name: string;
  name2?: string;
  name3?: string;
}

/** `/api/models/:name[/:name2[/:name3]]` followed by `suffix`, e.g. `/versions`. */
export function modelPath(depth: number, suffix = ''): string {
  const names = ['name', 'name2', 'name3'].slice(0, depth).map((param) => `:${param}`);
  return `/api/models/${names.join('/')}${suffix}`;
}

/** The params schema of a route at one depth: the name's segments plus the route's own params. */
export function modelParamsSchema<S extends z.ZodRawShape>(depth: number, extra: S) {
  const shape: Record<string, z.ZodType> = { name: depth === 1 ? documentedName : segment };
  if (depth >= 2) shape.name2 = segment;
  if (depth >= 3) shape.name3 = segment;
  // The shape varies with depth at run time; handlers read every depth through one type.
  return z.strictObject({ ...shape, ...extra }) as unknown as z.ZodObject<
    { name: typeof segment; name2: z.ZodOptional<typeof segment>; name3: z.ZodOptional<typeof segment> } & S
  >;
}

function joined(params: NameSegments): string {
  return [params.name, params.name2, params.name3].filter((part) => part !== undefined).join('/');
}

/** The model name a URL names; a bad one is a 400 naming `params.name`. */
export function modelNameOf(params: NameSegments): string {
  const ref = parseModelRef(joined(params), 'params.name');
  if (ref.selector.kind !== 'default') {
    throw validationError('params.name', 'takes a model name here, without @version or :alias');
  }
  return ref.name;
}

/** A model ref from the URL (`openai/gpt-4o-mini@2`, `…:production`), for reads. */
export function modelRefOf(params: NameSegments): string {
  const ref = joined(params);
  parseModelRef(ref, 'params.name');
  return ref;
}
