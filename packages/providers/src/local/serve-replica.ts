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
  port.on('message', (message: ToReplica) => {
    if (message.type === 'shutdown') {
      // Free the model's native memory before the thread ends, then end it.
      for (const controller of running.values()) controller.abort(new Error('replica shutting down'));
      void (backend.dispose?.() ?? Promise.resolve()).finally(() => process.exit(0));
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
    handler(message.input, { signal: controller.signal, emit })
      .then(
        (value) => send({ type: 'result', id: message.id, value }),
        (error: unknown) =>
          send({ type: 'error', id: message.id, message: messageOf(error), aborted: controller.signal.aborted }),
      )
      .finally(() => running.delete(message.id));
  });
  send({ type: 'ready' });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
