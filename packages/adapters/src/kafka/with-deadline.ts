import { setTimeout as delay } from 'node:timers/promises';

/**
 * Settles like `work`, or rejects with `onTimeout()` after `timeoutMs` (or when `signal` aborts), so a
 * client call that hangs on a dead broker never hangs its caller. The abandoned call keeps running in
 * the client; its late rejection is swallowed here so it cannot surface as an unhandled rejection.
 */
export function withDeadline<T>(
  work: Promise<T>,
  timeoutMs: number,
  onTimeout: (reason: 'timeout' | 'aborted') => Error,
  signal?: AbortSignal,
): Promise<T> {
  work.catch(() => {});
  if (signal?.aborted) return Promise.reject(onTimeout('aborted'));
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => finish(() => reject(onTimeout('timeout'))), timeoutMs);
    const onAbort = () => finish(() => reject(onTimeout('aborted')));
    signal?.addEventListener('abort', onAbort, { once: true });
    let settled = false;
    function finish(settle: () => void) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      settle();
    }
    work.then(
      (value) => finish(() => resolve(value)),
      (error: unknown) => finish(() => reject(error)),
    );
  });
}

/** Waits `ms`, or less when `signal` aborts; never rejects. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, signal ? { signal } : undefined);
  } catch {
    // Aborted: the caller checks its own state.
  }
}
