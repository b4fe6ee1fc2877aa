let tail: Promise<unknown> = Promise.resolve();

/**
 * Runs native-addon loads (a replica's worker loading onnxruntime-node or llama.cpp and its model,
 * the server thread holding onnxruntime-node) one at a time, process-wide. Addons initialising in
 * several threads at once are a known source of rare native aborts (`terminate called after
 * throwing an instance of 'Napi::Error'`, seen once in CI while four replicas loaded together); on
 * a small machine loading in parallel saves little anyway. A load that fails does not block the next.
 */
export function oneNativeLoadAtATime<T>(load: () => Promise<T>): Promise<T> {
  const run = tail.then(load, load);
  tail = run.catch(() => undefined);
  return run;
}
