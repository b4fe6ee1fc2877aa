import type { JobRetryPolicy } from './job.ts';

/**
 * The wait before attempt `attempt + 1`: exponential from `initialDelayMs`, capped at `maxDelayMs`,
 * with full jitter on the upper half so items that failed together do not retry together. An
 * upstream's `Retry-After` is honoured when it asks for longer (still capped).
 */
export function jobRetryDelayMs(
  policy: JobRetryPolicy,
  attempt: number,
  retryAfterSeconds?: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1));
  const jittered = ceiling / 2 + (random() * ceiling) / 2;
  const asked = retryAfterSeconds === undefined ? 0 : retryAfterSeconds * 1000;
  return Math.round(Math.min(policy.maxDelayMs, Math.max(jittered, asked)));
}
