import { credentialNameSchema, newCredentialSchema } from '@ensemble/core';
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

export const newCredentialBodySchema = newCredentialSchema.omit({ projectId: true }).meta({
  id: 'NewCredential',
  description:
    "The secret is encrypted at rest and never returned or logged. The credential belongs to the caller's project.",
});

export const listCredentialsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  after: z.string().max(1000).optional(),
});

export const credentialParamsSchema = z.strictObject({ name: credentialNameSchema });
/** No query parameters: the project is the API key's (an admin key may name another in `x-ensemble-project`). */
export const credentialQuerySchema = z.strictObject({});

export const rotationSchema = z
  .object({
    rotated: z.number().int().meta({ description: 'Credentials re-encrypted under the current master key' }),
    total: z.number().int(),
  })
  .meta({ id: 'CredentialRotation' });
