import { z } from 'zod';
import { isErrorCode } from '../errors/error-catalogue.ts';
import type { AttemptFailure } from './attempt-failure.ts';

/**
 * Which failed outcomes a rule applies to (used by `fallbackOn` and `retry.on`): an HTTP status
 * (`429`), a status class (`'5xx'`), an error code (`'timeout'`, `'upstream_error'`,
 * `'rate_limited'`, …), `'retryable'` (any failure the error catalogue marks retryable), or `'any'`.
 */
export type OutcomeSelector = number | string;

const keywords = ['retryable', 'any'] as const;

export const outcomeSelectorSchema = z.union([
  z
    .number()
    .int()
    .min(400, 'must be an HTTP error status (400-599)')
    .max(599, 'must be an HTTP error status (400-599)'),
  z
    .string()
    .refine(
      (value) => /^[45]xx$/.test(value) || isErrorCode(value) || (keywords as readonly string[]).includes(value),
      "must be a status (429), a status class ('5xx'), an error code ('timeout', 'upstream_error', …), 'retryable' or 'any'",
    ),
]);

export const outcomeMatcherSchema = z.array(outcomeSelectorSchema).max(64);

/** The default for both fallback and retry: move on when trying again could help. */
export const defaultOutcomeMatcher: readonly OutcomeSelector[] = ['retryable'];

export function matchesOutcome(selectors: readonly OutcomeSelector[], failure: AttemptFailure): boolean {
  return selectors.some((selector) => {
    if (typeof selector === 'number') return failure.status === selector;
    if (selector === 'any') return true;
    if (selector === 'retryable') return failure.retryable;
    if (/^[45]xx$/.test(selector)) return Math.floor(failure.status / 100) === Number(selector[0]);
    return failure.code === selector;
  });
}
