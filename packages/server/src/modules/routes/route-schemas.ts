import {
  modelNameSchema,
  newRouteSchema,
  newRouteVersionSchema,
  routePolicySchema,
  routeStatusSchema,
  updateRouteSchema,
  versionNumberSchema,
} from '@ensemble/core';
import { z } from 'zod';

// The policy tree is recursive: registered under an id, it becomes one named component whose
// children refer back to it, rather than an anonymous shared definition.
if (!z.globalRegistry.has(routePolicySchema)) {
  z.globalRegistry.add(routePolicySchema, {
    id: 'RoutePolicy',
    description:
      'A target name (shorthand for a single node) or a node: single | fallback | loadbalance | conditional (docs/routes.md)',
  });
}

const policy = z
  .record(z.string(), z.unknown())
  .meta({ description: 'The policy tree as validated, defaults filled in (docs/routes.md)' });

const versionFields = {
  version: z.number().int(),
  policy,
  description: z.string(),
  targets: z.array(z.string()).meta({ description: 'Every model or route the policy names, as written' }),
  createdAt: z.iso.datetime(),
  createdBy: z.string().meta({ description: 'The API key id that created it, or ensemble.yaml' }),
};

export const routeVersionSchema = z.object(versionFields).meta({ id: 'RouteVersion' });

export const routeVersionSummarySchema = z.object({
  version: z.number().int(),
  description: z.string(),
  createdAt: z.iso.datetime(),
  createdBy: z.string(),
});

const routeFields = {
  projectId: z.string(),
  name: z.string(),
  status: routeStatusSchema.meta({ description: 'active routes answer in /v1; retired ones are kept, not served' }),
  currentVersion: z.number().int().meta({ description: 'The version /v1 runs: the newest unless moved back' }),
  latestVersion: z.number().int(),
  current: routeVersionSchema,
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  updatedBy: z.string(),
};

export const routeSchema = z
  .object(routeFields)
  .meta({ id: 'Route', description: 'A route (virtual model), shown at its current version' });

export const routeDetailSchema = z
  .object({
    ...routeFields,
    versions: z
      .array(routeVersionSummarySchema)
      .meta({ description: `The newest versions (up to 20), newest first; all of them under …/versions` }),
  })
  .meta({ id: 'RouteDetail' });

export const routeListSchema = z
  .object({ data: z.array(routeSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'RouteList' });

export const routeVersionListSchema = z
  .object({ data: z.array(routeVersionSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'RouteVersionList' });

const limit = z.coerce.number().int().min(1).max(200).default(50);

export const listRoutesQuerySchema = z.strictObject({
  limit,
  after: z.string().max(1000).optional(),
  status: routeStatusSchema.optional(),
  target: modelNameSchema.optional().meta({
    description: 'Only routes whose current version targets this model or route (any version or alias of it)',
  }),
});

export const listRouteVersionsQuerySchema = z.strictObject({ limit, after: versionNumberSchema.optional() });

export const deleteRouteQuerySchema = z.strictObject({
  purge: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
});

export const noQuerySchema = z.strictObject({});

export const newRouteBodySchema = newRouteSchema.meta({
  id: 'NewRoute',
  description: "Version 1 of a route in the caller's project; `policy` is a target name or a policy tree",
});
export const newRouteVersionBodySchema = newRouteVersionSchema.meta({
  id: 'NewRouteVersion',
  description: 'Becomes the current version; the description is kept when left out',
});
export const updateRouteBodySchema = updateRouteSchema.meta({
  id: 'RoutePatch',
  description:
    'Move the current version (a rollback) or the status; `expectedCurrentVersion` makes it a compare-and-set',
});

export const versionParamsShape = { version: versionNumberSchema };
