import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '@ensemble/core';

/** Real time for core's Clock port; unref'd timers never keep a stopping process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, undefined, { ref: false, ...(signal === undefined ? {} : { signal }) }),
};
