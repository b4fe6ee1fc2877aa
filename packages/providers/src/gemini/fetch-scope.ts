import { AsyncLocalStorage } from 'node:async_hooks';
import { stampRetryable } from '@langchain/core/errors';
import { findGuardRefusal } from '../shared/to-ensemble-error.ts';

/**
 * Google's SDK (`@google/generative-ai`) sends every request with the global `fetch` and takes no
 * other, so the outbound guard cannot be handed to it the way the other SDKs take it. Instead the
 * global `fetch` is wrapped once: a call made inside `withFetch(port, …)` goes through that port, and
 * every other call in the process goes to the original `fetch`, untouched.
 */
const scope = new AsyncLocalStorage<typeof globalThis.fetch>();
const wrapped = Symbol.for('ensemble.gemini.scopedFetch');

function installScopedGlobalFetch(): void {
  const global = globalThis as typeof globalThis & { [wrapped]?: true };
  if (global[wrapped] === true) return;
  const original = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const port = scope.getStore();
    if (port === undefined) return original(input, init);
    // Outside the scope while the port runs, so a port built on the global fetch does not loop.
    return scope.exit(() => port(input, init));
  };
  global[wrapped] = true;
}

/** Runs `call` so that the global `fetch` calls it makes (and awaits) go through `port`. */
export function withFetch<T>(port: typeof globalThis.fetch, call: () => Promise<T>): Promise<T> {
  installScopedGlobalFetch();
  return scope.run(port, call);
}

/**
 * Wraps the named methods of an SDK client so each runs inside `withFetch(port)`. A streamed call's
 * connection is made before its method resolves, so the guard sees it; the body is read afterwards
 * on that connection. Google's SDK rewraps a failed fetch in a new error without its cause, so the
 * port's own error is handed on instead, and a guard refusal is marked final for LangChain's retries.
 */
export function sendClientThrough(client: unknown, methods: readonly string[], port: typeof globalThis.fetch): void {
  if (typeof client !== 'object' || client === null) return;
  for (const method of methods) {
    const original: unknown = Reflect.get(client, method);
    if (typeof original !== 'function') continue;
    const bound = original.bind(client) as (...args: unknown[]) => Promise<unknown>;
    Reflect.set(client, method, async (...args: unknown[]) => {
      const portFailures: unknown[] = [];
      const watchedPort: typeof globalThis.fetch = async (input, init) => {
        try {
          return await port(input, init);
        } catch (error) {
          portFailures.push(error);
          throw error;
        }
      };
      try {
        return await withFetch(watchedPort, () => bound(...args));
      } catch (error) {
        const portFailure = portFailures.at(-1);
        if (portFailure === undefined) throw error;
        throw findGuardRefusal(portFailure) === undefined ? portFailure : stampRetryable(portFailure, false);
      }
    });
  }
}
