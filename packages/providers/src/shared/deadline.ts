/** The caller's signal, tightened by the runtime's own timeout (`options.timeoutMs`). */
export function deadline(signal: AbortSignal | undefined, timeoutMs: number): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  return signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
}

/**
 * Settles with the promise, or rejects with the signal's reason as soon as it aborts. Some SDK paths
 * drop the signal (ChatGoogleGenerativeAI's non-streaming call, BedrockEmbeddings); the caller must
 * be freed anyway. The abandoned request finishes in the background, bounded by the HTTP client.
 */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    // The call was made with an aborted signal: it rejects too, and nobody awaits it (found when a run
    // cancelled from another instance crashed the process running it with an unhandled rejection).
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
