import type { CircuitBreakerPolicy } from './circuit-breaker-policy.ts';

export type BreakerState = 'closed' | 'open' | 'half_open';

/** The breaker's answer to "may I call this target now?". */
export interface BreakerAdmission {
  allowed: boolean;
  /** The state that answered (a granted half-open probe reports `half_open`). */
  state: BreakerState;
  /** This call is the half-open probe: its verdict closes or reopens the breaker. */
  probe: boolean;
  /** When refused: how long until the cool-down ends. */
  retryAfterMs?: number;
}

/** `neutral`: the target answered but the request was at fault (e.g. 400), or the call was abandoned. */
export type BreakerVerdict = 'success' | 'failure' | 'neutral';

export interface BreakerSnapshot {
  target: string;
  state: BreakerState;
  /** Counted failures inside the current window (closed state). */
  recentFailures: number;
  openedAt: number | undefined;
}

/**
 * Circuit breakers per target, shared by every request of a process (one in-memory registry per
 * process; breakers are a local judgement of health, not worth a network round trip).
 */
export interface BreakerRegistry {
  admit(target: string, policy: CircuitBreakerPolicy): BreakerAdmission;
  record(target: string, policy: CircuitBreakerPolicy, verdict: BreakerVerdict, admission: BreakerAdmission): void;
  /** Every known breaker, for metrics and the console. */
  snapshot(): BreakerSnapshot[];
}
