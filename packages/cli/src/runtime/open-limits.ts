import type { Database } from '@ensemble/adapters/postgres';
import {
  claimBudgetWarning,
  PostgresLimitStore,
  PostgresSharedBuckets,
  PostgresSpendSource,
} from '@ensemble/adapters/postgres';
import {
  createEvent,
  type EnsembleConfig,
  type EventBus,
  LeasedRateLimiter,
  type Logger,
  topics,
  type UsageRecorder,
  type WebhookSigner,
} from '@ensemble/core';
import { BudgetGuard, type BudgetWarning, LimitsCache, LimitsEnforcer } from '@ensemble/server';
import { outboundGuardFor } from './outbound-guard-for.ts';

export interface Limits {
  store: PostgresLimitStore;
  enforcer: LimitsEnforcer;
  /** Wraps the gateway's usage recorder so each call's tokens are charged to tokens-per-minute limits. */
  tap(usage: UsageRecorder): UsageRecorder;
}

export interface OpenLimitsOptions {
  config: EnsembleConfig;
  database: Database;
  bus: EventBus;
  signer: WebhookSigner;
  logger: Logger;
  /** Sends a budget warning's webhook; by default through the process's outbound guard. */
  deliver?: (url: string, body: string, headers: Record<string, string>) => Promise<void>;
}

/** Rate limits (token buckets in PostgreSQL, leased per instance) and budgets (from the usage ledger). */
export function openLimits({
  config,
  database,
  bus,
  signer,
  logger,
  deliver = guardedPost(config),
}: OpenLimitsOptions): Limits {
  const store = new PostgresLimitStore(database.db);
  const log = logger.child({ component: 'limits' });
  const limiter = new LeasedRateLimiter(new PostgresSharedBuckets(database.db), {
    onStoreError: (error) => log.warn({ err: error }, 'rate limit store unreachable: calls are allowed meanwhile'),
  });
  const warn = async (warning: BudgetWarning) => {
    const scope = warning.keyId === null ? 'project' : `key:${warning.keyId}`;
    if (!(await claimBudgetWarning(database.db, warning.projectId, scope, warning.periodStart))) return;
    const data = {
      scope: warning.keyId === null ? 'project' : 'key',
      keyId: warning.keyId,
      period: warning.budget.period,
      periodStart: warning.periodStart.toISOString(),
      amountUsd: warning.budget.amountUsd,
      warnAt: warning.budget.warnAt,
      spentUsd: warning.spentUsd,
    };
    const event = createEvent({ type: 'security/budget.warned', projectId: warning.projectId, data });
    await bus.publish([{ topic: topics.security, key: warning.projectId, value: event }]);
    log.warn({ projectId: warning.projectId, ...data }, 'budget warning threshold reached');
    if (warning.budget.webhookUrl !== undefined) {
      const body = JSON.stringify(event);
      const signature = signer.sign(warning.projectId, Math.floor(Date.now() / 1000), body);
      await deliver(warning.budget.webhookUrl, body, { 'ensemble-signature': signature });
    }
  };
  const budgets = new BudgetGuard(new PostgresSpendSource(database.db), {
    refreshMs: config.auth.budgetRefreshMs,
    onWarning: (warning) => {
      warn(warning).catch((error: unknown) => log.warn({ err: error }, 'could not send a budget warning'));
    },
  });
  const cache = new LimitsCache(store, { ttlMs: config.auth.limitsCacheTtlMs });
  const enforcer = new LimitsEnforcer({ cache, limiter, budgets });
  return {
    store,
    enforcer,
    tap: (usage) => ({
      record(event) {
        enforcer.chargeTokens(event.projectId, event.keyId, event.inputTokens + event.outputTokens);
        usage.record(event);
      },
      flush: () => usage.flush(),
    }),
  };
}

/**
 * Budget webhooks through the SSRF guard: the URL (and every redirect) checked again when sent, and
 * the address when connecting, since the budget was saved minutes or weeks before.
 */
function guardedPost(config: EnsembleConfig) {
  const guard = outboundGuardFor(config);
  return async (url: string, body: string, headers: Record<string, string>): Promise<void> => {
    const response = await guard.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      timeoutMs: 10_000,
      field: 'budget.webhookUrl',
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`the budget webhook answered ${response.status}`);
  };
}
