import { credentialNameSchema, newCredentialSchema, projectIdSchema } from '@ensemble/core';
import { z } from 'zod';

/** What the API shows of a credential: never the secret, at most a hint like `sk-…abcd`. */
export const credentialSchema = z
  .object({
    projectId: z.string(),
    name: z.string(),
    provider: z.string(),
    hint: z.string(),
    keyId: z.string().meta({ description: 'Fingerprint of the master key that encrypts it' }),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Credential' });

export const credentialListSchema = z
  .object({ data: z.array(credentialSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'CredentialList' });

export const newCredentialBodySchema = newCredentialSchema.meta({
  id: 'NewCredential',
  description: 'The secret is encrypted at rest and never returned or logged',
});

export const listCredentialsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  after: z.string().max(1000).optional(),
  project: projectIdSchema.optional(),
});

export const credentialParamsSchema = z.strictObject({ name: credentialNameSchema });
export const credentialQuerySchema = z.strictObject({ project: projectIdSchema.default('default') });

export const rotationSchema = z
  .object({
    rotated: z.number().int().meta({ description: 'Credentials re-encrypted under the current master key' }),
    total: z.number().int(),
  })
  .meta({ id: 'CredentialRotation' });
