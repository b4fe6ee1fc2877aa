import { EnsembleError } from '@ensemble/core';
import type { FastifyReply } from 'fastify';

/** Why a call was stopped from outside: its client left, or it ran past its longest duration. */
export interface CallAbort {
  readonly signal: AbortSignal;
  clientGone(): boolean;
  /** Stops watching (the call is over). */
  dispose(): void;
}

const clientLeft = new Error('the client disconnected');

/**
 * One signal for everything that stops a call from outside: the client closing its connection
 * before the answer is complete (the response's `close`; the request's fires once the body is
 * read), or the call running past `maxDurationMs` (a 504 `timeout`, or an error chunk mid-stream).
 */
export function callAbort(reply: FastifyReply, maxDurationMs: number | undefined): CallAbort {
  const controller = new AbortController();
  const response = reply.raw;
  // Left in place when the call ends: the response is this call's alone, and `close` after a finished
  // response aborts nothing.
  response.once('close', () => {
    if (!response.writableFinished) controller.abort(clientLeft);
  });
  const timer =
    maxDurationMs === undefined
      ? undefined
      : setTimeout(
          () => controller.abort(new EnsembleError('timeout', `the call took longer than ${maxDurationMs} ms`)),
          maxDurationMs,
        );
  return {
    signal: controller.signal,
    clientGone: () => controller.signal.aborted && controller.signal.reason === clientLeft,
    dispose: () => {
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}
