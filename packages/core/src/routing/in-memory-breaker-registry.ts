import type { Clock } from '../ports/clock.ts';
import type {
  BreakerAdmission,
  BreakerRegistry,
  BreakerSnapshot,
  BreakerState,
  BreakerVerdict,
} from './breaker-registry.ts';

export interface InMemoryBreakerRegistryOptions {
  clock: Pick<Clock, 'now'>;
  /** Told of every transition (for logs and the `circuit_breaker_state` metric). */
  onStateChange?: (target: string, from: BreakerState, to: BreakerState) => void;
}

interface Breaker {
  state: BreakerState;
  /** Times of counted failures in the window, oldest first (closed state only). */
  failures: number[];
  openedAt: number | undefined;
  probeInFlight: boolean;
}

export function createInMemoryBreakerRegistry(options: InMemoryBreakerRegistryOptions): BreakerRegistry {
  const { clock, onStateChange } = options;
  const breakers = new Map<string, Breaker>();

  const move = (target: string, breaker: Breaker, to: BreakerState) => {
    const from = breaker.state;
    if (from === to) return;
    breaker.state = to;
    onStateChange?.(target, from, to);
  };

  return {
    admit(target, policy) {
      const breaker = breakers.get(target);
      if (breaker === undefined || breaker.state === 'closed') return { allowed: true, state: 'closed', probe: false };
      const now = clock.now();
      if (breaker.state === 'open') {
        const reopensAt = (breaker.openedAt ?? now) + policy.cooldownMs;
        if (now < reopensAt) return { allowed: false, state: 'open', probe: false, retryAfterMs: reopensAt - now };
        move(target, breaker, 'half_open');
      }
      // Half-open: exactly one probe at a time; everyone else is turned away until it answers.
      if (breaker.probeInFlight) return { allowed: false, state: 'half_open', probe: false };
      breaker.probeInFlight = true;
      return { allowed: true, state: 'half_open', probe: true };
    },

    record(target, policy, verdict: BreakerVerdict, admission: BreakerAdmission) {
      let breaker = breakers.get(target);
      const now = clock.now();
      if (admission.probe) {
        if (breaker === undefined) return;
        breaker.probeInFlight = false;
        if (verdict === 'success') {
          breaker.failures = [];
          breaker.openedAt = undefined;
          move(target, breaker, 'closed');
        } else if (verdict === 'failure') {
          breaker.openedAt = now;
          move(target, breaker, 'open');
        }
        return;
      }
      // Late answers from calls admitted before the breaker opened do not change an open breaker.
      if (verdict !== 'failure' || (breaker !== undefined && breaker.state !== 'closed')) return;
      if (breaker === undefined) {
        breaker = { state: 'closed', failures: [], openedAt: undefined, probeInFlight: false };
        breakers.set(target, breaker);
      }
      const windowStart = now - policy.windowMs;
      breaker.failures = breaker.failures.filter((at) => at > windowStart);
      breaker.failures.push(now);
      if (breaker.failures.length >= policy.failureThreshold) {
        breaker.failures = [];
        breaker.openedAt = now;
        move(target, breaker, 'open');
      }
    },

    snapshot(): BreakerSnapshot[] {
      return [...breakers].map(([target, breaker]) => ({
        target,
        state: breaker.state,
        recentFailures: breaker.failures.length,
        openedAt: breaker.openedAt,
      }));
    },
  };
}
