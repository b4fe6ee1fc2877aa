/**
 * Time, injected. Core never touches timers directly so that retries, timeouts and circuit
 * breakers run deterministically in tests (a manual clock) and on real time in the apps.
 */
export interface Clock {
  /** Milliseconds since the epoch (or any fixed origin; only differences matter to core). */
  now(): number;
  /**
   * Resolves after `ms` milliseconds. Rejects with `signal.reason` as soon as `signal` aborts
   * (at once if it already has), and then frees its timer.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}
