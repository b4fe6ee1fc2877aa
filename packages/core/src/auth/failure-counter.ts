/** A count of failures in a fixed window: when the window ends the count starts again. */
export interface FailureWindow {
  failures: number;
  /** When the window ends (epoch ms). */
  resetAt: number;
}

/**
 * Failed sign-ins and key attempts counted in fixed windows, in a store every instance shares, so a
 * guesser spreading attempts over several instances meets one limit. `scope` separates the counts
 * (`login-account`, `login-address`, `key-address`); `subject` is the account or the address.
 */
export interface FailureCounter {
  /** Counts one failure and returns the window's count, the failure included. */
  record(scope: string, subject: string, windowMs: number): Promise<FailureWindow>;
  /** The current window's count, or `undefined` when there is none (or it has ended). */
  peek(scope: string, subject: string, windowMs: number): Promise<FailureWindow | undefined>;
  /** Forgets the count (a successful sign-in clears its account's). */
  clear(scope: string, subject: string): Promise<void>;
}
