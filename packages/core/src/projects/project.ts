import { z } from 'zod';

/** Project ids appear in URLs, keys and event envelopes: lowercase slugs, stable once created. */
export const projectIdSchema = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'must be 1-63 lowercase letters, digits or inner hyphens');

export const newProjectSchema = z.strictObject({
  id: projectIdSchema,
  name: z.string().trim().min(1, 'must not be empty').max(200),
});

export type NewProject = z.infer<typeof newProjectSchema>;

/** A tenant: every model, route, pipeline, collection, job and key belongs to one. */
export interface Project {
  id: string;
  name: string;
  createdAt: Date;
  updatedAt: Date;
}

/** Created by the first migration, so a fresh install has somewhere to put things. */
export const defaultProjectId = 'default';
