import { workerData } from 'node:worker_threads';
import { serveReplica } from './serve-replica.ts';
import type { ReplicaBackend } from './worker-protocol.ts';

/** What a pool hands each replica: the backend module to load and its options. */
export interface ReplicaWorkerData {
  /** A `file:` URL of a module exporting `loadBackend(options): Promise<ReplicaBackend>`. */
  backend: string;
  options: unknown;
}

interface BackendModule {
  loadBackend(options: unknown): Promise<ReplicaBackend>;
}

// The worker thread's entry: one replica of one model.
const { backend, options } = workerData as ReplicaWorkerData;
await serveReplica(async () => {
  const module = (await import(backend)) as BackendModule;
  return module.loadBackend(options);
});
