import { EnsembleError } from '@ensemble/core';

/**
 * Settles like `work`, or rejects with `event_bus_unavailable` after `timeoutMs` or when `signal`
 * aborts. The pool's connect and statement timeouts end the abandoned query; its late failure is ignored.
 */
export function withinDeadline<T>(
  work: Promise<T>,
  timeoutMs: number,
  operation: string,
  signal?: AbortSignal,
): Promise<T> {
  work.catch(() => {});
  const deadline = signal ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
  const unavailable = () =>
    new EnsembleError(
      'event_bus_unavailable',
      `the embedded event bus (PostgreSQL) did not answer ${operation} ${signal?.aborted ? 'before it was aborted' : `within ${timeoutMs} ms`}`,
      { details: { operation } },
    );
  if (deadline.aborted) return Promise.reject(unavailable());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(unavailable());
    deadline.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => deadline.removeEventListener('abort', onAbort));
  });
}
