/** Messages between a replica pool (main thread) and one replica (a worker thread). */

/** Main → replica: run `method` on `input`, or stop the call with that id. */
export type ToReplica =
  | { type: 'call'; id: number; method: string; input: unknown }
  | { type: 'abort'; id: number }
  | { type: 'shutdown' };

/** Replica → main: loaded, a streamed piece of a call, its result, or why it failed. */
export type FromReplica =
  | { type: 'ready' }
  | { type: 'load-failed'; message: string }
  | { type: 'chunk'; id: number; value: unknown }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; message: string; aborted: boolean };

/** What a replica's handlers get besides their input. */
export interface CallContext {
  signal: AbortSignal;
  /** Sends one streamed piece of the answer (a token, say) to the caller right away. */
  emit(value: unknown): void;
}

export type ReplicaHandler = (input: unknown, context: CallContext) => Promise<unknown>;

/** What a replica module exports: it loads its model once and names its methods. */
export interface ReplicaBackend {
  handlers: Record<string, ReplicaHandler>;
  dispose?(): Promise<void>;
}
