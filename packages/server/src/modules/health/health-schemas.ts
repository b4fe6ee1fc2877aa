import { z } from 'zod';

export const healthSchema = z
  .object({
    status: z.literal('ok'),
    uptimeSeconds: z.number().nonnegative(),
    version: z.string(),
  })
  .meta({ id: 'Health' });

const checkResultSchema = z
  .object({
    status: z.enum(['up', 'down', 'timeout']),
    latencyMs: z.number().nonnegative(),
    error: z.string().optional(),
  })
  .meta({ id: 'DependencyCheckResult' });

export const readinessSchema = z
  .object({
    status: z.enum(['ready', 'unavailable']),
    /** Present when unavailable for a reason other than a failing check. */
    reason: z.literal('shutting_down').optional(),
    checks: z.record(z.string(), checkResultSchema),
  })
  .meta({ id: 'Readiness' });

export type Readiness = z.infer<typeof readinessSchema>;
