import { z } from 'zod';
import { modelNameSchema, versionNumberSchema } from '../models/model-name.ts';
import type { RoutePolicy } from '../routing/route-policy.ts';
import { routePolicyDocumentSchema } from './route-policy-document.ts';

/** `active` routes answer in `/v1`; `retired` ones are kept with their versions but not served. */
export const routeStatuses = ['active', 'retired'] as const;
export type RouteStatus = (typeof routeStatuses)[number];
export const routeStatusSchema = z.enum(routeStatuses);

/** One immutable version of a route: `name@3` means the same policy forever. */
export interface RouteVersion {
  version: number;
  /** As validated (defaults filled in), so the version's meaning never shifts with a later default. */
  policy: RoutePolicy;
  description: string;
  /** Every target the policy names, as written (`name`, `name@2`, `name:alias`). */
  targets: string[];
  createdAt: Date;
  /** The API key id that created it, or `ensemble.yaml`. */
  createdBy: string;
}

/**
 * A route as stored: its name in a project, which version the gateway serves (`currentVersion`: the
 * newest unless moved back) and that version's content.
 */
export interface StoredRoute {
  projectId: string;
  name: string;
  status: RouteStatus;
  currentVersion: number;
  latestVersion: number;
  current: RouteVersion;
  createdAt: Date;
  updatedAt: Date;
  updatedBy: string;
}

const description = z.string().max(2000);

/** A new route: its version 1. */
export const newRouteSchema = z.strictObject({
  name: modelNameSchema,
  description: description.default(''),
  policy: routePolicyDocumentSchema,
});
export type NewRoute = z.output<typeof newRouteSchema>;

/** A new version; it becomes the current one. The description is kept from the current version when left out. */
export const newRouteVersionSchema = z.strictObject({
  policy: routePolicyDocumentSchema,
  description: description.optional(),
});
export type NewRouteVersion = z.output<typeof newRouteVersionSchema>;

/** Moves the current version (a rollback, or forward again) or the status; optionally compare-and-set. */
export const updateRouteSchema = z
  .strictObject({
    currentVersion: versionNumberSchema.optional(),
    status: routeStatusSchema.optional(),
    /** The version that must be current now, or the change is a 409 (someone moved it meanwhile). */
    expectedCurrentVersion: versionNumberSchema.optional(),
  })
  .refine((patch) => patch.currentVersion !== undefined || patch.status !== undefined, {
    message: 'set currentVersion, status or both',
  });
export type UpdateRoute = z.output<typeof updateRouteSchema>;
