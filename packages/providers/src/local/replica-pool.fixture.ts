import { setTimeout as sleep } from 'node:timers/promises';
import type { ReplicaBackend } from './worker-protocol.ts';

/** A stand-in model for the pool's tests: echoes, sleeps, streams, crashes or fails to load. */
export async function loadBackend(raw: unknown): Promise<ReplicaBackend> {
  const options = raw as { failLoad?: boolean };
  if (options.failLoad) throw new Error('weights are unreadable');
  return {
    handlers: {
      echo: async (input) => input,
      sleep: async (input, call) => {
        await sleep(input as number, undefined, { signal: call.signal });
        return 'slept';
      },
      stream: async (input, call) => {
        for (let index = 0; index < (input as number); index++) call.emit(index);
        return 'done';
      },
      crash: async () => {
        // A native crash or an out-of-memory kill looks the same to the pool: the thread is gone.
        setImmediate(() => process.exit(3));
        await sleep(10_000);
      },
    },
  };
}
