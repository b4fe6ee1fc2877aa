import { z } from 'zod';

/** A spend budget: blocks calls once the period's cost (from the usage ledger) reaches `amountUsd`. */
export const budgetSchema = z.strictObject({
  amountUsd: z.number().positive().max(1e9),
  /** Calendar periods in UTC: a day from 00:00, a month from its first day. */
  period: z.enum(['day', 'month']),
  /** The share of the budget at which a warning goes out (an event, and the webhook if set); 0.8 by default. */
  warnAt: z.number().gt(0).lt(1).default(0.8),
  /** Receives the warning as a signed POST (checked by the outbound-URL guard). */
  webhookUrl: z
    .url({ protocol: /^https?$/ })
    .max(2_000)
    .optional(),
});

/**
 * The limits of a project, or of one key within it. Every field is optional: what is left out is not
 * limited. A call must pass both its key's limits and its project's.
 */
export const limitSettingsSchema = z
  .strictObject({
    /** Requests per minute: a token bucket of this size refilled at this rate per minute. */
    requestsPerMinute: z.number().int().positive().max(10_000_000).optional(),
    /** Model tokens (input + output) per minute, charged when a call's usage is known. */
    tokensPerMinute: z.number().int().positive().max(10_000_000_000).optional(),
    budget: budgetSchema.optional(),
  })
  .refine((limits) => Object.keys(limits).length > 0, 'set at least one of requestsPerMinute, tokensPerMinute, budget');

export type LimitSettings = z.infer<typeof limitSettingsSchema>;
export type Budget = z.infer<typeof budgetSchema>;

/** What applies to one caller: its project's limits and its key's (either may be absent). */
export interface EffectiveLimits {
  project: LimitSettings | undefined;
  key: LimitSettings | undefined;
}

/** Where a budget period starts, in UTC, for the instant `now` (epoch ms). */
export function periodStart(period: Budget['period'], now: number): Date {
  const date = new Date(now);
  return period === 'day'
    ? new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()))
    : new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1));
}
