import { z } from 'zod';

/**
 * When to stop sending to a target: `failureThreshold` counted failures (retryable ones: 5xx, 408,
 * 429, timeouts, network) within `windowMs` open the breaker; after `cooldownMs` one probe goes
 * through (half-open); its success closes the breaker, its failure opens it again.
 */
export const circuitBreakerPolicySchema = z.strictObject({
  failureThreshold: z.number().int().min(1).max(1000).default(5),
  windowMs: z.number().int().min(1).max(3_600_000).default(60_000),
  cooldownMs: z.number().int().min(1).max(3_600_000).default(30_000),
});

export type CircuitBreakerPolicy = z.infer<typeof circuitBreakerPolicySchema>;
export type CircuitBreakerPolicyInput = z.input<typeof circuitBreakerPolicySchema>;
