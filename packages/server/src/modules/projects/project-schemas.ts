import { newProjectSchema, projectIdSchema } from '@ensemble/core';
import { z } from 'zod';

export const projectSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Project' });

export const projectListSchema = z
  .object({
    data: z.array(projectSchema),
    /** Pass as `after` to read the next page; null on the last page. */
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'ProjectList' });

export const listProjectsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  after: projectIdSchema.optional(),
});

export const projectParamsSchema = z.strictObject({ id: projectIdSchema });

export const createProjectBodySchema = newProjectSchema.meta({ id: 'NewProject' });
