import { z } from 'zod';
import { projectIdSchema } from '../projects/project.ts';

/** What models refer to in `credential`: a lowercase slug, unique per project. */
export const credentialNameSchema = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9._-]{0,61}[a-z0-9])?$/, "must be 1-63 lowercase letters, digits, '.', '_' or '-'");

/** Which provider's key it is (`openai`, `anthropic` …): informative, for listing and checks. */
export const providerIdSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be 1-63 lowercase letters, digits or hyphens, starting with a letter');

export const newCredentialSchema = z.strictObject({
  name: credentialNameSchema,
  provider: providerIdSchema,
  /** The API key itself. Stored encrypted, never returned, never logged. */
  secret: z.string().min(1, 'must not be empty').max(16_384),
  projectId: projectIdSchema.default('default'),
});

export type NewCredential = z.infer<typeof newCredentialSchema>;

/** A credential as the API shows it: everything except the secret. */
export interface CredentialSummary {
  projectId: string;
  name: string;
  provider: string;
  /** At most the first and last few characters, e.g. `sk-…abcd`; empty for short secrets. */
  hint: string;
  /** Which master key encrypted it (a fingerprint, not the key). */
  keyId: string;
  createdAt: Date;
  updatedAt: Date;
}

/** Shows a secret's shape without its substance: short secrets show nothing at all. */
export function maskSecret(secret: string): string {
  if (secret.length < 16) return '';
  const prefix = /^[A-Za-z]{2,8}[-_]/.exec(secret)?.[0] ?? '';
  return `${prefix}…${secret.slice(-4)}`;
}
