import { z } from 'zod';

/**
 * Path segments a model name may not use: they name the sub-resources under `/api/models/{name}/…`,
 * so `openai/gpt-4o-mini/versions` is never ambiguous.
 */
export const reservedNameSegments: readonly string[] = [
  'versions',
  'aliases',
  'history',
  'invoke',
  'deploy',
  'undeploy',
  'health',
];

/** Names are written raw in URLs (`/api/models/openai/gpt-4o-mini`); the routes accept this many segments. */
export const maxNameSegments = 3;

const segment = /^[a-z0-9](?:[a-z0-9._-]{0,98}[a-z0-9])?$/;

/**
 * The unique name users call a model by: lowercase segments of letters, digits, `.`, `_`, `-`,
 * joined by `/`, e.g. `openai/gpt-4o-mini` or `local/smollm2-135m`. `@` and `:` are left out because
 * they select a version or an alias in a model ref.
 */
export const modelNameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .superRefine((name, ctx) => {
    const segments = name.split('/');
    if (segments.length > maxNameSegments) {
      ctx.addIssue({ code: 'custom', message: `must have at most ${maxNameSegments} '/'-separated segments` });
      return;
    }
    for (const part of segments) {
      if (!segment.test(part)) {
        ctx.addIssue({
          code: 'custom',
          message:
            "must be lowercase segments of letters, digits, '.', '_' or '-' (starting and ending with a letter or digit) joined by '/', e.g. openai/gpt-4o-mini",
        });
        return;
      }
      if (reservedNameSegments.includes(part)) {
        ctx.addIssue({ code: 'custom', message: `must not use the reserved segment '${part}'` });
        return;
      }
    }
  });

/** A movable pointer at a version: `production`, `staging`, `latest` or a name of your own. */
export const aliasNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be 1-63 lowercase letters, digits or hyphens, starting with a letter');

/** Versions are numbered from 1 in the order they are created, per model. */
export const versionNumberSchema = z.coerce.number().int().min(1).max(2_147_483_647);

/** The alias a bare name resolves to when it is set (otherwise the newest version). */
export const latestAlias = 'latest';
