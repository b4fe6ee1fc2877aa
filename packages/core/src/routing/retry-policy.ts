import { z } from 'zod';
import { defaultOutcomeMatcher, type OutcomeSelector, outcomeMatcherSchema } from './outcome-matcher.ts';
import type { RandomSource } from './random-source.ts';

/**
 * How a target is tried again, after Temporal's RetryPolicy: delay n (from 1) is
 * `min(maxDelayMs, initialDelayMs × backoffCoefficient^(n-1))`, scaled by a random factor in [0, 1)
 * under full jitter (AWS's "full jitter", so a burst of failures does not retry in lock-step).
 * A `Retry-After` from the upstream replaces that delay, capped at `maxRetryAfterMs`.
 */
export const retryPolicySchema = z.strictObject({
  /** Tries in all, the first included; 1 means no retry. */
  maxAttempts: z.number().int().min(1).max(10).default(3),
  initialDelayMs: z.number().min(0).max(60_000).default(200),
  backoffCoefficient: z.number().min(1).max(10).default(2),
  maxDelayMs: z.number().min(0).max(300_000).default(10_000),
  jitter: z.enum(['full', 'none']).default('full'),
  honourRetryAfter: z.boolean().default(true),
  maxRetryAfterMs: z.number().min(0).max(300_000).default(30_000),
  /** Which failures are retried; the default is the retryable ones (5xx, 408, 429, timeouts, network). */
  on: outcomeMatcherSchema.default([...defaultOutcomeMatcher]),
});

export type RouteRetryPolicy = z.infer<typeof retryPolicySchema>;
export type RouteRetryPolicyInput = z.input<typeof retryPolicySchema>;

/** No `retry` on a node and none inherited: one try. */
export const noRetry: RouteRetryPolicy = {
  maxAttempts: 1,
  initialDelayMs: 0,
  backoffCoefficient: 1,
  maxDelayMs: 0,
  jitter: 'none',
  honourRetryAfter: true,
  maxRetryAfterMs: 30_000,
  on: [...defaultOutcomeMatcher] as OutcomeSelector[],
};

/** The wait before retry number `retry` (1 = the first retry). */
export function retryDelay(
  policy: RouteRetryPolicy,
  retry: number,
  retryAfterMs: number | undefined,
  random: RandomSource,
): number {
  if (policy.honourRetryAfter && retryAfterMs !== undefined) return Math.min(retryAfterMs, policy.maxRetryAfterMs);
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.backoffCoefficient ** (retry - 1));
  return policy.jitter === 'full' ? ceiling * random() : ceiling;
}
