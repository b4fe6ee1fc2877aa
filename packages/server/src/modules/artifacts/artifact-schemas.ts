import { z } from 'zod';

export const artifactSchema = z
  .object({
    sha256: z.string(),
    sizeBytes: z.number().int().nonnegative(),
  })
  .meta({ id: 'Artifact' });

export const artifactListSchema = z.object({ data: z.array(artifactSchema) }).meta({ id: 'ArtifactList' });

export const artifactParamsSchema = z.strictObject({
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters'),
});

export const uploadHeadersSchema = z.object({
  /** When given, an upload whose content hashes differently is refused and nothing is stored. */
  'x-ensemble-sha256': z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'must be the sha256 of the file in 64 lowercase hex characters')
    .optional(),
});
