import { type ApiKey, displayPrefix, newApiKeySchema, projectRoles } from '@ensemble/core';
import { z } from 'zod';

/** A key as the API shows it: never the secret, only its first characters (`ens_ab12…`). */
export const apiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    projectId: z.string(),
    prefix: z.string().meta({ description: 'The first characters of the secret, e.g. `ens_ab12…`' }),
    admin: z.boolean().meta({ description: 'A platform admin key: acts on every project, as owner' }),
    role: z.enum(projectRoles).meta({ description: 'viewer < developer < admin < owner, within the project' }),
    allowedIps: z
      .array(z.string())
      .nullable()
      .meta({ description: 'Source address ranges (CIDR) the key may be used from; null means anywhere' }),
    allowedModels: z
      .array(z.string())
      .nullable()
      .meta({ description: 'Model and route names the key may call; null means all of its project' }),
    tags: z.array(z.string()),
    bootstrap: z.boolean().meta({ description: 'The admin key made at first start or from ENSEMBLE_ADMIN_KEY' }),
    expiresAt: z.iso.datetime().nullable(),
    createdAt: z.iso.datetime(),
    lastUsedAt: z.iso.datetime().nullable().meta({ description: 'Recorded in batches: up to 30 s behind' }),
    revokedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'ApiKey' });

export const createdApiKeySchema = apiKeySchema
  .extend({
    secret: z.string().meta({ description: 'The key itself: shown in this response only, never again' }),
  })
  .meta({ id: 'CreatedApiKey' });

export const apiKeyListSchema = z
  .object({ data: z.array(apiKeySchema), nextCursor: z.string().nullable() })
  .meta({ id: 'ApiKeyList' });

export const newApiKeyBodySchema = newApiKeySchema
  .refine((key) => !(key.expiresAt instanceof Date) || key.expiresAt.getTime() > Date.now(), {
    path: ['expiresAt'],
    message: 'must be in the future',
  })
  .meta({
    id: 'NewApiKey',
    description: "The key belongs to the caller's project (an admin key may name another in x-ensemble-project)",
  });

export const listApiKeysQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  after: z.string().max(100).optional(),
});

export const apiKeyParamsSchema = z.strictObject({
  id: z.string().regex(/^key_[A-Za-z0-9]{16}$/, 'must be a key id such as key_AbCdEf0123456789'),
});

export function apiKeyJson(key: ApiKey) {
  return {
    id: key.id,
    name: key.name,
    projectId: key.projectId,
    prefix: displayPrefix(key.prefix),
    admin: key.admin,
    role: key.role,
    allowedIps: key.allowedIps === null ? null : [...key.allowedIps],
    allowedModels: key.allowedModels === null ? null : [...key.allowedModels],
    tags: [...key.tags],
    bootstrap: key.bootstrap,
    expiresAt: key.expiresAt?.toISOString() ?? null,
    createdAt: key.createdAt.toISOString(),
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
    revokedAt: key.revokedAt?.toISOString() ?? null,
  };
}
