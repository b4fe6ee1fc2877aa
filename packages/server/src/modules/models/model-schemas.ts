import {
  aliasNameSchema,
  modelArtifactSchema,
  modelCapabilitiesSchema,
  modelKindSchema,
  modelPricingSchema,
  modelStatusSchema,
  newModelVersionSchema,
  providerIdSchema,
  registerModelSchema,
  updateModelSchema,
  versionNumberSchema,
} from '@ensemble/core';
import { z } from 'zod';

const versionFields = {
  version: z.number().int(),
  provider: z.string(),
  providerModelId: z.string(),
  baseUrl: z.string().optional(),
  credential: z.string().optional().meta({ description: 'The name of a credential in the same project' }),
  parameters: z.record(z.string(), z.unknown()),
  options: z.record(z.string(), z.unknown()),
  capabilities: modelCapabilitiesSchema,
  pricing: modelPricingSchema.optional(),
  artifact: modelArtifactSchema.optional(),
  createdAt: z.iso.datetime(),
  createdBy: z.string(),
};

export const modelVersionSchema = z.object(versionFields).meta({ id: 'ModelVersion' });

export const modelSchema = z
  .object({
    projectId: z.string(),
    name: z.string(),
    kind: z.string(),
    description: z.string(),
    tags: z.array(z.string()),
    status: modelStatusSchema,
    latestVersion: z.number().int(),
    aliases: z.record(z.string(), z.number().int()),
    registeredAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    ...versionFields,
  })
  .meta({
    id: 'Model',
    description:
      'A registry entry, shown at the version its ref resolves to (`version`; the newest is `latestVersion`)',
  });

export const modelListSchema = z
  .object({ data: z.array(modelSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'ModelList' });

export const modelVersionListSchema = z
  .object({ data: z.array(modelVersionSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'ModelVersionList' });

export const modelAliasSchema = z
  .object({ alias: z.string(), version: z.number().int(), updatedAt: z.iso.datetime(), updatedBy: z.string() })
  .meta({ id: 'ModelAlias' });

export const modelAliasListSchema = z.object({ data: z.array(modelAliasSchema) }).meta({ id: 'ModelAliasList' });

export const aliasHistorySchema = z
  .object({
    data: z.array(
      z.object({
        alias: z.string(),
        fromVersion: z.number().int().nullable(),
        toVersion: z.number().int().nullable(),
        actor: z.string(),
        at: z.iso.datetime(),
      }),
    ),
  })
  .meta({ id: 'ModelAliasHistory' });

const limit = z.coerce.number().int().min(1).max(200).default(50);

/**
 * Routes that take no query parameters still refuse unknown ones: a leftover `?project=` must not be
 * ignored silently (the project comes from the API key, or an admin key's `x-ensemble-project`).
 */
export const noQuerySchema = z.strictObject({});

export const listModelsQuerySchema = z.strictObject({
  limit,
  after: z.string().max(1000).optional(),
  kind: modelKindSchema.optional(),
  provider: providerIdSchema.optional(),
  tag: z.string().min(1).max(63).optional(),
  status: modelStatusSchema.optional(),
});

export const deleteModelQuerySchema = z.strictObject({
  purge: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
});

export const listVersionsQuerySchema = z.strictObject({ limit, after: versionNumberSchema.optional() });

export const historyQuerySchema = z.strictObject({ limit });

export const statusHistorySchema = z
  .object({
    data: z.array(
      z.object({
        from: z.string(),
        to: z.string(),
        reason: z.string().nullable(),
        actor: z.string(),
        at: z.iso.datetime(),
      }),
    ),
  })
  .meta({ id: 'ModelStatusHistory' });

/** The project is the caller's (the API key's, or an admin key's `x-ensemble-project`), never the body's. */
export const registerModelBodySchema = registerModelSchema.omit({ projectId: true }).meta({ id: 'NewModel' });
export const updateModelBodySchema = updateModelSchema.meta({ id: 'ModelPatch' });
export const newVersionBodySchema = newModelVersionSchema.meta({ id: 'NewModelVersion' });

export const moveAliasBodySchema = z
  .strictObject({
    version: versionNumberSchema,
    /** Compare-and-set: where the alias must point now (null: it must not exist yet). */
    expectedVersion: versionNumberSchema.nullable().optional(),
  })
  .meta({ id: 'AliasMove' });

export const replaceAliasesBodySchema = z
  .record(aliasNameSchema, versionNumberSchema)
  .meta({ id: 'AliasMap', description: 'alias → version; aliases left out are deleted' });

export const aliasParamsShape = { alias: aliasNameSchema };
export const versionParamsShape = { version: versionNumberSchema };
