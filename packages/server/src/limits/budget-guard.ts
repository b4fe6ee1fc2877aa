import { type Budget, periodStart, type SpendSource } from '@ensemble/core';

/** A budget crossing its warning threshold: what the event and the webhook say. */
export interface BudgetWarning {
  projectId: string;
  /** The key whose budget it is, or null for the project's. */
  keyId: string | null;
  budget: Budget;
  spentUsd: number;
  periodStart: Date;
}

export interface BudgetGuardOptions {
  /** How old a spend figure may be before the ledger is asked again (in the background); 5 s. */
  refreshMs?: number;
  now?: () => number;
  /** Called when a budget's spend crosses `warnAt`, at most once per budget and period on this instance. */
  onWarning?: (warning: BudgetWarning) => void;
}

interface Spend {
  spent: number;
  at: number;
  period: number;
  refreshing: Promise<void> | undefined;
  warned: boolean;
}

export interface BudgetVerdict {
  blocked: boolean;
  spentUsd: number;
  /** When blocked: until the period ends. */
  retryAfterMs: number;
}

/**
 * Spend budgets from the usage ledger's cost. The spend of each budget is read from PostgreSQL and
 * refreshed in the background every few seconds, so a call only compares two numbers; the ledger is
 * itself a little behind (it is written off the request path), so a budget stops calls within seconds
 * of being reached, not at the exact cent (docs/security.md).
 */
export class BudgetGuard {
  readonly #spend: SpendSource;
  readonly #refreshMs: number;
  readonly #now: () => number;
  readonly #onWarning: (warning: BudgetWarning) => void;
  readonly #spends = new Map<string, Spend>();

  constructor(spend: SpendSource, options: BudgetGuardOptions = {}) {
    this.#spend = spend;
    this.#refreshMs = options.refreshMs ?? 5_000;
    this.#now = options.now ?? Date.now;
    this.#onWarning = options.onWarning ?? (() => {});
  }

  check(projectId: string, keyId: string | null, budget: Budget): BudgetVerdict | Promise<BudgetVerdict> {
    const now = this.#now();
    const start = periodStart(budget.period, now).getTime();
    const id = `${projectId}\u0000${keyId ?? ''}\u0000${budget.period}`;
    let spend = this.#spends.get(id);
    if (spend === undefined || spend.period !== start) {
      spend = { spent: 0, at: 0, period: start, refreshing: undefined, warned: false };
      this.#spends.set(id, spend);
      return this.#refresh(spend, projectId, keyId, budget).then(() => this.#verdict(spend as Spend, budget, now));
    }
    if (now - spend.at >= this.#refreshMs) void this.#refresh(spend, projectId, keyId, budget).catch(() => {});
    return this.#verdict(spend, budget, now);
  }

  #refresh(spend: Spend, projectId: string, keyId: string | null, budget: Budget): Promise<void> {
    spend.refreshing ??= this.#spend
      .spent(projectId, keyId, new Date(spend.period))
      .then((spent) => {
        spend.spent = spent;
        spend.at = this.#now();
        if (!spend.warned && spent >= budget.amountUsd * budget.warnAt) {
          spend.warned = true;
          this.#onWarning({ projectId, keyId, budget, spentUsd: spent, periodStart: new Date(spend.period) });
        }
      })
      .finally(() => {
        spend.refreshing = undefined;
      });
    return spend.refreshing;
  }

  #verdict(spend: Spend, budget: Budget, now: number): BudgetVerdict {
    if (spend.spent < budget.amountUsd) return { blocked: false, spentUsd: spend.spent, retryAfterMs: 0 };
    const next = new Date(spend.period);
    if (budget.period === 'day') next.setUTCDate(next.getUTCDate() + 1);
    else next.setUTCMonth(next.getUTCMonth() + 1);
    return { blocked: true, spentUsd: spend.spent, retryAfterMs: next.getTime() - now };
  }
}
