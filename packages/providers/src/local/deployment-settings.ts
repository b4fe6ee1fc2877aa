import { availableParallelism } from 'node:os';
import { type ModelKind, validationError } from '@ensemble/core';

/** How a local model is deployed; from the registry entry's `options`, else these defaults. */
export interface DeploymentSettings {
  replicas: number;
  /** Calls one replica runs at once. */
  concurrency: number;
  /** Calls allowed to wait for a replica before new ones get 429. */
  maxQueue: number;
  /** Native threads per replica (ONNX Runtime intra-op, llama.cpp evaluation). */
  threads: number;
  /** Embeddings: concurrent requests within this window share one model call (0 = off). */
  batchWindowMs: number;
  maxBatchSize: number;
  /** Chat: tokens of context per sequence. */
  contextSize: number;
}

export function deploymentSettings(kind: ModelKind, options: Record<string, unknown>): DeploymentSettings {
  const cores = availableParallelism();
  // Embeddings: one single-threaded replica per core (up to 2). The small int8 encoder gains little
  // from a second thread inside one call (short texts) and nothing from spinning threads, while
  // replicas on their own cores scale (bench/models, docs/benchmarks.md). The LLM's larger matrices
  // use two threads well; one sequence per replica.
  const embedding = kind === 'embedding';
  const defaults: DeploymentSettings = {
    replicas: embedding ? Math.min(2, cores) : 1,
    concurrency: 1,
    maxQueue: kind === 'chat' ? 16 : 256,
    threads: embedding ? 1 : Math.min(2, cores),
    batchWindowMs: 3,
    maxBatchSize: 32,
    contextSize: 2048,
  };
  const settings = { ...defaults };
  for (const key of Object.keys(defaults) as (keyof DeploymentSettings)[]) {
    const value = options[key];
    if (value === undefined) continue;
    const minimum = key === 'batchWindowMs' || key === 'maxQueue' ? 0 : 1;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum) {
      throw validationError(`options.${key}`, `must be an integer ≥ ${minimum}`);
    }
    settings[key] = value;
  }
  return settings;
}
