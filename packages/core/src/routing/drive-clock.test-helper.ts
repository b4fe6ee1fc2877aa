import type { ManualClock } from './manual-clock.ts';

/** Lets pending promise callbacks run (a real turn of the event loop: microseconds). */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Settles `promise` by running the manual clock: after each quiet turn, time jumps to the next
 * pending sleep. Fails if nothing is pending and the promise still has not settled.
 */
export async function drive<T>(clock: ManualClock, promise: Promise<T>, maxSteps = 10_000): Promise<T> {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  for (let step = 0; step < maxSteps; step += 1) {
    await flush();
    if (settled) return promise;
    if (!clock.runNext()) {
      await flush();
      if (settled) return promise;
      throw new Error('stuck: no sleep is pending and the promise has not settled');
    }
  }
  throw new Error(`still pending after ${maxSteps} steps`);
}

/** An error shaped like the OpenAI SDK's APIError. */
export function httpError(status: number, headers: Record<string, string> = {}): Error {
  return Object.assign(new Error(`upstream answered ${status}`), { status, headers });
}
