import { type ResourceLimits, Worker } from 'node:worker_threads';
import { EnsembleError, type Logger } from '@ensemble/core';
import { oneNativeLoadAtATime } from './native-load-gate.ts';
import { shutdownGraceMs } from './serve-replica.ts';
import type { FromReplica, ToReplica } from './worker-protocol.ts';

export interface ReplicaPoolOptions {
  /** The model's name, for errors and logs. */
  name: string;
  /** The worker module; it calls `serveReplica`. */
  entry: URL;
  workerData: unknown;
  replicas: number;
  /** Calls one replica runs at once (1 for an LLM context with one sequence). */
  concurrencyPerReplica: number;
  /** Calls waiting for a free replica beyond which new ones are refused with 429. */
  maxQueue: number;
  /** How long a replica may take to load its model. */
  loadTimeoutMs?: number;
  restartDelayMs?: number;
  resourceLimits?: ResourceLimits;
  logger?: Logger;
}

export interface PoolCallOptions {
  signal?: AbortSignal;
  /** Receives the pieces a streaming method emits, in order, before the call resolves. */
  onChunk?: (value: unknown) => void;
}

export interface ReplicaPoolStats {
  replicas: number;
  ready: number;
  running: number;
  queued: number;
  restarts: number;
}

interface PendingCall {
  id: number;
  method: string;
  input: unknown;
  options: PoolCallOptions;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  /** Set once the caller got its answer (or gave up) while the replica may still be busy with it. */
  settled: boolean;
  detach(): void;
}

interface Replica {
  index: number;
  worker: Worker;
  state: 'starting' | 'ready' | 'dead';
  running: Map<number, PendingCall>;
  /** Why it last stopped or failed to load. */
  lastError?: string;
  /** Settles when the thread has ended (at once for one that already has). */
  exited: Promise<void>;
}

/**
 * N worker-thread replicas of one model behind a bounded queue, so inference never runs on the
 * server's event loop. A replica that dies fails the calls it was running with a clear, retryable
 * error and is started again; queued calls wait for it rather than hang on a dead one.
 */
export class ReplicaPool {
  readonly name: string;
  private readonly options: ReplicaPoolOptions;
  private readonly replicas: Replica[] = [];
  private readonly queue: PendingCall[] = [];
  private nextId = 1;
  private restarts = 0;
  private closed = false;

  private constructor(options: ReplicaPoolOptions) {
    this.name = options.name;
    this.options = options;
  }

  /** Starts every replica and resolves once all have loaded the model; a load failure rejects. */
  static async start(options: ReplicaPoolOptions): Promise<ReplicaPool> {
    const pool = new ReplicaPool(options);
    try {
      await Promise.all(Array.from({ length: options.replicas }, (_, index) => pool.spawn(index)));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  call<T>(method: string, input: unknown, options: PoolCallOptions = {}): Promise<T> {
    if (this.closed) {
      return Promise.reject(new EnsembleError('shutting_down', `local model '${this.name}' is being undeployed`));
    }
    options.signal?.throwIfAborted();
    if (this.replicas.every((replica) => replica.state === 'dead')) {
      const reason = this.replicas.find((replica) => replica.lastError !== undefined)?.lastError ?? 'unknown';
      return Promise.reject(
        new EnsembleError('internal_error', `local model '${this.name}' has no running replica (${reason})`),
      );
    }
    const free = this.freeSlots();
    if (free === 0 && this.queue.length >= this.options.maxQueue) {
      return Promise.reject(
        new EnsembleError(
          'rate_limited',
          `local model '${this.name}' is at capacity (${this.queue.length} calls queued); retry shortly`,
          { retryAfterSeconds: 1, details: { model: this.name, queued: this.queue.length } },
        ),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const call: PendingCall = {
        id: this.nextId++,
        method,
        input,
        options,
        resolve: (value) => resolve(value as T),
        reject,
        settled: false,
        detach: () => {},
      };
      const signal = options.signal;
      if (signal !== undefined) {
        const onAbort = () => this.abort(call, signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        call.detach = () => signal.removeEventListener('abort', onAbort);
      }
      this.queue.push(call);
      this.pump();
    });
  }

  stats(): ReplicaPoolStats {
    return {
      replicas: this.replicas.length,
      ready: this.replicas.filter((replica) => replica.state === 'ready').length,
      running: this.replicas.reduce((sum, replica) => sum + replica.running.size, 0),
      queued: this.queue.length,
      restarts: this.restarts,
    };
  }

  /** Stops every replica (freeing its model's memory) and fails what is still waiting. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const stopping = new EnsembleError('shutting_down', `local model '${this.name}' was undeployed`);
    for (const call of this.queue.splice(0)) settle(call, stopping);
    await Promise.all(
      this.replicas.map(async (replica) => {
        for (const call of replica.running.values()) settle(call, stopping);
        replica.running.clear();
        // A replica that already died (waiting for its restart) has no thread to stop: no 'exit' will come.
        if (replica.state === 'dead') return;
        const exited = replica.exited;
        replica.worker.postMessage({ type: 'shutdown' } satisfies ToReplica);
        // The last resort: terminating a thread inside native code can abort the process, so the
        // replica gets its grace to unwind and dispose first.
        const timer = setTimeout(() => void replica.worker.terminate(), shutdownGraceMs + 5_000);
        // Undeploy never hangs: if no 'exit' comes even after the terminate, the pool gives the thread up.
        let giveUp: NodeJS.Timeout | undefined;
        const gaveUp = new Promise<void>((resolve) => {
          giveUp = setTimeout(resolve, shutdownGraceMs + 10_000);
        });
        await Promise.race([exited, gaveUp]);
        clearTimeout(timer);
        clearTimeout(giveUp);
      }),
    );
  }

  private freeSlots(): number {
    return this.replicas.reduce(
      (sum, replica) =>
        sum + (replica.state === 'ready' ? Math.max(0, this.options.concurrencyPerReplica - replica.running.size) : 0),
      0,
    );
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const replica = this.leastBusyReadyReplica();
      if (replica === undefined) return;
      const call = this.queue.shift();
      if (call === undefined) return;
      replica.running.set(call.id, call);
      replica.worker.postMessage({
        type: 'call',
        id: call.id,
        method: call.method,
        input: call.input,
      } satisfies ToReplica);
    }
  }

  private leastBusyReadyReplica(): Replica | undefined {
    let best: Replica | undefined;
    for (const replica of this.replicas) {
      if (replica.state !== 'ready' || replica.running.size >= this.options.concurrencyPerReplica) continue;
      if (best === undefined || replica.running.size < best.running.size) best = replica;
    }
    return best;
  }

  private abort(call: PendingCall, reason: unknown): void {
    const queuedAt = this.queue.indexOf(call);
    if (queuedAt >= 0) this.queue.splice(queuedAt, 1);
    else {
      // The replica keeps the slot until it confirms the stop, so concurrency stays honest.
      const replica = this.replicas.find((candidate) => candidate.running.has(call.id));
      replica?.worker.postMessage({ type: 'abort', id: call.id } satisfies ToReplica);
    }
    settle(call, reason instanceof Error ? reason : new Error('aborted'));
  }

  /** Starts replica `index`; it loads once the replicas loading before it (in any pool) are done. */
  private spawn(index: number): Promise<void> {
    return oneNativeLoadAtATime(() => (this.closed ? Promise.resolve() : this.startReplica(index)));
  }

  private startReplica(index: number): Promise<void> {
    const worker = new Worker(this.options.entry, {
      workerData: this.options.workerData,
      ...(this.options.resourceLimits === undefined ? {} : { resourceLimits: this.options.resourceLimits }),
    });
    const replica: Replica = {
      index,
      worker,
      state: 'starting',
      running: new Map(),
      exited: new Promise<void>((resolve) => worker.once('exit', () => resolve())),
    };
    this.replicas[index] = replica;

    return new Promise<void>((resolve, reject) => {
      const loadTimer = setTimeout(() => {
        reject(this.loadError(`did not load within ${this.options.loadTimeoutMs ?? 120_000} ms`));
        void worker.terminate();
      }, this.options.loadTimeoutMs ?? 120_000);

      worker.on('message', (message: FromReplica) => {
        switch (message.type) {
          case 'ready':
            clearTimeout(loadTimer);
            replica.state = 'ready';
            resolve();
            this.pump();
            return;
          case 'load-failed':
            clearTimeout(loadTimer);
            replica.lastError = message.message;
            reject(this.loadError(message.message));
            void worker.terminate();
            return;
          case 'chunk': {
            const call = replica.running.get(message.id);
            if (call !== undefined && !call.settled) call.options.onChunk?.(message.value);
            return;
          }
          case 'result':
          case 'error': {
            const call = replica.running.get(message.id);
            replica.running.delete(message.id);
            if (call !== undefined) {
              if (message.type === 'result') {
                if (!call.settled) {
                  call.settled = true;
                  call.detach();
                  call.resolve(message.value);
                }
              } else {
                settle(call, new EnsembleError('internal_error', `local model '${this.name}': ${message.message}`));
              }
            }
            this.pump();
            return;
          }
        }
      });
      worker.on('error', (error) => {
        replica.lastError = error.message;
      });
      worker.on('exit', (code) => {
        clearTimeout(loadTimer);
        const wasReady = replica.state === 'ready';
        replica.state = 'dead';
        const reason = replica.lastError ?? `exit code ${code}`;
        replica.lastError = reason;
        const crashed = new EnsembleError(
          'upstream_error',
          `local model '${this.name}' replica ${index} stopped while running this request (${reason}); it is being restarted, retry the request`,
          { details: { model: this.name, replica: index } },
        );
        for (const call of replica.running.values()) settle(call, crashed);
        replica.running.clear();
        reject(this.loadError(reason));
        // Only a replica that had loaded is restarted: one that cannot load would fail forever.
        if (this.closed || this.replicas[index] !== replica || !wasReady) {
          if (!this.closed && this.replicas.every((other) => other.state === 'dead')) {
            for (const call of this.queue.splice(0)) settle(call, this.loadError(reason));
          }
          return;
        }
        this.restarts += 1;
        this.options.logger?.warn(
          { model: this.name, replica: index, reason },
          'local model replica stopped; restarting',
        );
        setTimeout(() => {
          if (this.closed) return;
          this.spawn(index).catch(() => {
            // Logged by the exit handler; calls waiting on a pool with no live replica failed there.
          });
        }, this.options.restartDelayMs ?? 100);
      });
    });
  }

  private loadError(reason: string): EnsembleError {
    return new EnsembleError('internal_error', `local model '${this.name}' failed to load: ${reason}`, {
      details: { model: this.name },
    });
  }
}

function settle(call: PendingCall, error: unknown): void {
  if (call.settled) return;
  call.settled = true;
  call.detach();
  call.reject(error);
}
