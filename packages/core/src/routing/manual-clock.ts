import type { Clock } from '../ports/clock.ts';

/** A clock whose time only moves when told to: routing tests run instantly and exactly. */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms`, resolving every sleep that falls due, in order. */
  advance(ms: number): void;
  /** Moves time to the next pending sleep and resolves it; false when none is pending. */
  runNext(): boolean;
  /** Sleeps not yet due or aborted. */
  pendingSleeps(): number;
}

interface Sleeper {
  at: number;
  order: number;
  resolve: () => void;
}

export function createManualClock(start = 0): ManualClock {
  let now = start;
  let order = 0;
  const sleepers: Sleeper[] = [];

  const dueFirst = (a: Sleeper, b: Sleeper) => a.at - b.at || a.order - b.order;
  const wake = (sleeper: Sleeper) => {
    sleepers.splice(sleepers.indexOf(sleeper), 1);
    now = Math.max(now, sleeper.at);
    sleeper.resolve();
  };

  return {
    now: () => now,
    sleep(ms, signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      return new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const index = sleepers.indexOf(sleeper);
          if (index !== -1) sleepers.splice(index, 1);
          reject(signal?.reason);
        };
        const sleeper: Sleeper = {
          at: now + Math.max(0, ms),
          order: order++,
          resolve: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        sleepers.push(sleeper);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    advance(ms) {
      const until = now + ms;
      for (;;) {
        const next = sleepers.filter((sleeper) => sleeper.at <= until).sort(dueFirst)[0];
        if (next === undefined) break;
        wake(next);
      }
      now = until;
    },
    runNext() {
      const next = [...sleepers].sort(dueFirst)[0];
      if (next === undefined) return false;
      wake(next);
      return true;
    },
    pendingSleeps: () => sleepers.length,
  };
}
