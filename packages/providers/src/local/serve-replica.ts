import { parentPort } from 'node:worker_threads';
import type { FromReplica, ReplicaBackend, ToReplica } from './worker-protocol.ts';

/**
 * The replica side of the pool protocol: loads the backend once, then runs calls as they come,
 * each with its own abort signal. Runs inside a worker thread only.
 */
export async function serveReplica(load: () => Promise<ReplicaBackend>): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('serveReplica must run in a worker thread');
  const send = (message: FromReplica) => port.postMessage(message);
  let backend: ReplicaBackend;
  try {
    backend = await load();
  } catch (error) {
    send({ type: 'load-failed', message: messageOf(error) });
    return;
  }
  const running = new Map<number, AbortController>();
  const settling = new Set<Promise<unknown>>();
  let shuttingDown = false;
  port.on('message', (message: ToReplica) => {
    if (message.type === 'shutdown') {
      if (shuttingDown) return;
      shuttingDown = true;
      // Stop the calls, let them unwind out of native code (a generation stops at its next token),
      // and only then free the model's native memory and end the thread: disposing a llama.cpp
      // context under a running generation aborts the whole process ("terminate called after
      // throwing an instance of 'Napi::Error'").
      for (const controller of running.values()) controller.abort(new Error('replica shutting down'));
      const unwound = Promise.race([Promise.allSettled([...settling]), sleep(shutdownGraceMs)]);
      void unwound.then(() => backend.dispose?.()).finally(() => process.exit(0));
      return;
    }
    if (shuttingDown) {
      if (message.type === 'call') {
        send({ type: 'error', id: message.id, message: 'replica shutting down', aborted: true });
      }
      return;
    }
    if (message.type === 'abort') {
      running.get(message.id)?.abort(new Error('aborted by the caller'));
      return;
    }
    const handler = backend.handlers[message.method];
    if (handler === undefined) {
      send({ type: 'error', id: message.id, message: `unknown method '${message.method}'`, aborted: false });
      return;
    }
    const controller = new AbortController();
    running.set(message.id, controller);
    const emit = (value: unknown) => send({ type: 'chunk', id: message.id, value });
    const settled = handler(message.input, { signal: controller.signal, emit })
      .then(
        (value) => send({ type: 'result', id: message.id, value }),
        (error: unknown) =>
          send({ type: 'error', id: message.id, message: messageOf(error), aborted: controller.signal.aborted }),
      )
      .finally(() => {
        running.delete(message.id);
        settling.delete(settled);
      });
    settling.add(settled);
  });
  send({ type: 'ready' });
}

/** How long a shutting-down replica waits for its aborted calls before disposing the model anyway. */
export const shutdownGraceMs = 5_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
