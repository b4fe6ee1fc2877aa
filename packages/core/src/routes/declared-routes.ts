import { z } from 'zod';
import { modelNameSchema } from '../models/model-name.ts';
import { projectIdSchema } from '../projects/project.ts';
import { routePolicyDocumentSchema } from './route-policy-document.ts';

/**
 * A route declared in `ensemble.yaml` under `routes:`. Reconciled at start after the models:
 * created when missing, given a new version when its policy or description differs from its newest
 * version, left alone otherwise (a version moved back through the API stays current until the file
 * changes). `retire: true` retires it; a route the file no longer mentions is never touched.
 */
export const declaredRouteSchema = z.strictObject({
  name: modelNameSchema,
  projectId: projectIdSchema.default('default'),
  description: z.string().max(2000).default(''),
  policy: routePolicyDocumentSchema,
  retire: z.boolean().default(false),
});

export type DeclaredRoute = z.output<typeof declaredRouteSchema>;
