/**
 * Failed API key attempts per source address, counted in one-minute windows. Past the limit, the
 * address is refused (429) until its window ends, before any key lookup: guessing keys costs the
 * guesser time, not Ensemble a query. The block is checked in memory; with a shared count (the
 * authentication plugin's `failureCounter`, PostgreSQL) every failure is also counted there and an
 * instance blocks the address as soon as the shared count reaches the limit (`blockUntil`), so N
 * instances give a guesser the limit plus at most one try per instance, not N times the limit.
 */
export class FailedAttempts {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor({ limitPerMinute, now = Date.now }: { limitPerMinute: number; now?: () => number }) {
    this.#limit = limitPerMinute;
    this.#windowMs = 60_000;
    this.#now = now;
  }

  /** Milliseconds this address must wait, or 0 when it may try. */
  blockedFor(ip: string): number {
    if (this.#limit === 0) return 0;
    const window = this.#windows.get(ip);
    if (window === undefined || window.count < this.#limit) return 0;
    const left = window.start + this.#windowMs - this.#now();
    if (left > 0) return left;
    this.#windows.delete(ip);
    return 0;
  }

  /** Blocks the address until `until` (epoch ms): the shared count reached the limit. */
  blockUntil(ip: string, until: number): void {
    if (this.#limit === 0) return;
    this.#windows.set(ip, { start: until - this.#windowMs, count: this.#limit });
  }

  get limit(): number {
    return this.#limit;
  }

  record(ip: string): void {
    if (this.#limit === 0) return;
    const now = this.#now();
    let window = this.#windows.get(ip);
    if (window === undefined || now - window.start >= this.#windowMs) {
      // Bounded: a flood from many addresses drops the oldest windows, never grows without end.
      if (this.#windows.size >= 100_000) this.#windows.delete(this.#windows.keys().next().value as string);
      window = { start: now, count: 0 };
      this.#windows.set(ip, window);
    }
    window.count += 1;
  }
}
