import { EnsembleError, type LeasedRateLimiter, type LimitSettings, type RateDecision } from '@ensemble/core';
import type { FastifyReply } from 'fastify';
import type { BudgetGuard } from './budget-guard.ts';
import type { LimitsCache } from './limits-cache.ts';

export interface LimitsEnforcerParts {
  cache: LimitsCache;
  limiter: LeasedRateLimiter;
  budgets: BudgetGuard;
}

/**
 * Applies a caller's limits before its request runs: requests and tokens per minute (token buckets
 * shared by every instance), then spend budgets, for its key and for its project. Answers with the
 * `x-ratelimit-*` headers of the tightest bucket, and refuses with 429 and `Retry-After`.
 */
export class LimitsEnforcer {
  readonly cache: LimitsCache;
  readonly #limiter: LeasedRateLimiter;
  readonly #budgets: BudgetGuard;

  constructor(parts: LimitsEnforcerParts) {
    this.cache = parts.cache;
    this.#limiter = parts.limiter;
    this.#budgets = parts.budgets;
  }

  async check(projectId: string, keyId: string, reply: FastifyReply): Promise<void> {
    let limits = this.cache.get(projectId, keyId);
    if (limits instanceof Promise) limits = await limits;
    if (limits.key !== undefined) await this.#apply('key', keyId, projectId, keyId, limits.key, reply);
    if (limits.project !== undefined) await this.#apply('project', projectId, projectId, null, limits.project, reply);
  }

  /** Charges a finished call's model tokens to its key's and project's tokens-per-minute buckets. */
  chargeTokens(projectId: string, keyId: string | null, tokens: number): void {
    if (keyId === null || tokens <= 0) return;
    const limits = this.cache.peek(projectId, keyId);
    if (limits === undefined) return;
    // One token was taken before the call, to refuse a caller already in debt.
    if (limits.key?.tokensPerMinute !== undefined)
      this.#limiter.charge(`tpm:k:${keyId}`, limits.key.tokensPerMinute, tokens - 1);
    if (limits.project?.tokensPerMinute !== undefined) {
      this.#limiter.charge(`tpm:p:${projectId}`, limits.project.tokensPerMinute, tokens - 1);
    }
  }

  async #apply(
    scope: 'key' | 'project',
    id: string,
    projectId: string,
    keyId: string | null,
    settings: LimitSettings,
    reply: FastifyReply,
  ): Promise<void> {
    const prefix = scope === 'key' ? 'k' : 'p';
    if (settings.requestsPerMinute !== undefined) {
      let decision = this.#limiter.take(`rpm:${prefix}:${id}`, settings.requestsPerMinute);
      if (decision instanceof Promise) decision = await decision;
      headers(reply, 'requests', decision);
      if (!decision.allowed) throw refused(reply, scope, 'requestsPerMinute', decision);
    }
    if (settings.tokensPerMinute !== undefined) {
      let decision = this.#limiter.take(`tpm:${prefix}:${id}`, settings.tokensPerMinute);
      if (decision instanceof Promise) decision = await decision;
      headers(reply, 'tokens', decision);
      if (!decision.allowed) throw refused(reply, scope, 'tokensPerMinute', decision);
    }
    if (settings.budget !== undefined) {
      let verdict = this.#budgets.check(projectId, keyId, settings.budget);
      if (verdict instanceof Promise) verdict = await verdict;
      if (verdict.blocked) {
        const seconds = Math.ceil(verdict.retryAfterMs / 1000);
        reply.header('retry-after', String(seconds));
        throw new EnsembleError(
          'budget_exceeded',
          `The ${scope}'s ${settings.budget.period}ly budget of $${settings.budget.amountUsd} is spent ($${verdict.spentUsd.toFixed(4)}); it renews in ${seconds} s`,
          { details: { scope, limit: 'budget', retryAfterSeconds: seconds } },
        );
      }
    }
  }
}

/** Sets the headers unless a tighter bucket (fewer remaining) already set them. */
function headers(reply: FastifyReply, unit: 'requests' | 'tokens', decision: RateDecision): void {
  const current = reply.getHeader(`x-ratelimit-remaining-${unit}`);
  if (current !== undefined && Number(current) <= decision.remaining) return;
  reply.header(`x-ratelimit-limit-${unit}`, String(decision.limit));
  reply.header(`x-ratelimit-remaining-${unit}`, String(decision.remaining));
  reply.header(`x-ratelimit-reset-${unit}`, `${Math.ceil(decision.resetMs / 1000)}s`);
}

function refused(reply: FastifyReply, scope: string, limit: string, decision: RateDecision): EnsembleError {
  const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
  reply.header('retry-after', String(seconds));
  return new EnsembleError(
    'rate_limited',
    `Rate limit reached: the ${scope}'s ${limit} (${decision.limit}); retry in ${seconds} s`,
    {
      details: { scope, limit, retryAfterSeconds: seconds },
    },
  );
}
