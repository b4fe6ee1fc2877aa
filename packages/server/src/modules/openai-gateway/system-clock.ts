import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '@ensemble/core';

/** Real time for the router and retries; unref'd timers never keep a stopping process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, undefined, { ref: false, ...(signal === undefined ? {} : { signal }) }),
};
