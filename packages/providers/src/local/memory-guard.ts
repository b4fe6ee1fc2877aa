import { EnsembleError } from '@ensemble/core';

export interface MemoryBudget {
  /** Bytes free for a new deployment; `process.availableMemory()` unless injected (tests). */
  freeBytes(): number;
  /** Resident memory per replica as a multiple of the model file (weights + context + runtime). */
  factor: number;
  /** Fixed cost of one replica: a worker thread's V8 isolate and native runtime. */
  perReplicaOverheadBytes: number;
}

export const defaultMemoryBudget: MemoryBudget = {
  // Free memory as this process may use it: the container's (cgroup) limit minus what is used when
  // one is set, which os.freemem() — the host's figure — would miss.
  freeBytes: () => process.availableMemory(),
  factor: 1.5,
  perReplicaOverheadBytes: 64 * 1024 * 1024,
};

/** Refuses a deployment whose replicas would not fit in free memory, saying by how much. */
export function assertFitsInMemory(model: string, fileBytes: number, replicas: number, budget: MemoryBudget): void {
  const requiredBytes = Math.ceil(replicas * (fileBytes * budget.factor + budget.perReplicaOverheadBytes));
  const freeBytes = budget.freeBytes();
  if (requiredBytes <= freeBytes) return;
  throw new EnsembleError(
    'conflict',
    `cannot deploy local model '${model}': ${replicas} replica(s) need about ${mib(requiredBytes)} MiB but only ${mib(freeBytes)} MiB is free. Fix: deploy fewer replicas, free memory, or use a smaller model.`,
    { details: { model, replicas, requiredBytes, freeBytes } },
  );
}

function mib(bytes: number): number {
  return Math.round(bytes / (1024 * 1024));
}
