import { z } from 'zod';
import { projectIdSchema } from '../projects/project.ts';
import { credentialNameSchema, providerIdSchema } from './credential.ts';
import { registerModelSchema } from './model-descriptor.ts';

/**
 * A model declared in `ensemble.yaml` under `models:`. Reconciled at start: created when missing,
 * given a new version when its spec changed, left alone otherwise. `retire: true` retires it; a
 * model the file no longer mentions is never touched.
 */
export const declaredModelSchema = registerModelSchema.extend({
  retire: z.boolean().default(false),
});

export type DeclaredModel = z.infer<typeof declaredModelSchema>;

const environmentVariableName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be an environment variable name, e.g. OPENAI_API_KEY');

/** `${OPENAI_API_KEY}`: the only form `apiKey` may take, so no secret is ever written in the file. */
const reference = /^\$\{([A-Za-z_][A-Za-z0-9_]{0,127})\}$/;

// Written in two parts so no linter mistakes it for a template placeholder.
const exampleReference = ['$', '{OPENAI_API_KEY}'].join('');

/**
 * A credential declared in `ensemble.yaml` under `credentials:`, by reference to the environment
 * variable holding the key: `apiKeyEnv: OPENAI_API_KEY` or `apiKey: ${OPENAI_API_KEY}`.
 */
export const declaredCredentialSchema = z
  .strictObject({
    name: credentialNameSchema,
    provider: providerIdSchema,
    projectId: projectIdSchema.default('default'),
    apiKeyEnv: environmentVariableName.optional(),
    apiKey: z
      .string()
      .regex(
        reference,
        `must reference an environment variable, e.g. ${exampleReference}; never write a key in the file`,
      )
      .optional(),
  })
  .transform((entry, ctx) => {
    const fromReference = entry.apiKey === undefined ? undefined : reference.exec(entry.apiKey)?.[1];
    const env = entry.apiKeyEnv ?? fromReference;
    if (env === undefined || (entry.apiKeyEnv !== undefined && fromReference !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: `give exactly one of apiKeyEnv or apiKey: ${exampleReference}`,
        path: ['apiKeyEnv'],
      });
      return z.NEVER;
    }
    return { name: entry.name, provider: entry.provider, projectId: entry.projectId, env };
  });

export type DeclaredCredential = z.infer<typeof declaredCredentialSchema>;
