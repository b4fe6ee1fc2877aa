import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReplicaBackend } from './worker-protocol.ts';

/** A stand-in model for the pool's tests: echoes, sleeps, streams, crashes or fails to load. */
export async function loadBackend(raw: unknown): Promise<ReplicaBackend> {
  const options = raw as { failLoad?: boolean; disposeLog?: string };
  if (options.failLoad) throw new Error('weights are unreadable');
  let generating = 0;
  return {
    // Like llama.cpp: disposing under a running generation would abort the process; here it is written down.
    ...(options.disposeLog === undefined
      ? {}
      : {
          dispose: async () => appendFileSync(options.disposeLog as string, `disposed with ${generating} generating\n`),
        }),
    handlers: {
      // Like a generation: sees the abort only at its next token, 300 ms later.
      generate: async (_input, call) => {
        generating += 1;
        try {
          while (!call.signal.aborted) await sleep(300);
          await sleep(300);
          throw new Error('generation stopped');
        } finally {
          generating -= 1;
        }
      },
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
