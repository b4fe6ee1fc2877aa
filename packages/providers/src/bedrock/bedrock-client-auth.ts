import { validationError } from '@ensemble/core';
import { z } from 'zod';

const accessKeys = z.strictObject({
  accessKeyId: z.string().min(16),
  secretAccessKey: z.string().min(16),
  sessionToken: z.string().min(1).optional(),
});

export type BedrockClientAuth =
  | { credentials: z.output<typeof accessKeys> }
  | { authSchemePreference: string[]; token: () => Promise<{ token: string }> }
  | Record<string, never>;

/**
 * How the Bedrock client authenticates, from the model's credential:
 * - none: the AWS default chain (environment, shared config, ECS task role, instance profile);
 * - a JSON object `{accessKeyId, secretAccessKey, sessionToken?}`: those keys (SigV4);
 * - any other string: a Bedrock API key, sent as a bearer token.
 */
export function bedrockClientAuth(secret: string | undefined): BedrockClientAuth {
  if (secret === undefined || secret.length === 0) return {};
  if (!secret.trimStart().startsWith('{')) {
    return { authSchemePreference: ['httpBearerAuth'], token: async () => ({ token: secret }) };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(secret);
  } catch {
    throw validationError(
      'credential',
      'a Bedrock credential that starts with { must be JSON {accessKeyId, secretAccessKey, sessionToken?}',
    );
  }
  const keys = accessKeys.safeParse(parsed);
  if (!keys.success) {
    throw validationError(
      'credential',
      'a Bedrock access-key credential needs accessKeyId and secretAccessKey (sessionToken optional)',
    );
  }
  return { credentials: keys.data };
}
