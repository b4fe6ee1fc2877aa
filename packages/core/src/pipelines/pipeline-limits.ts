/** Bounds that keep a runaway pipeline from running away (configurable; see docs/pipelines.md). */
export interface PipelineLimits {
  /** Steps in one definition, nested ones included. */
  maxSteps: number;
  /** Levels of nesting: branch cases, map and parallel bodies, fallbacks, nested pipelines. */
  maxDepth: number;
  /** Branches of a parallel step, and a map step's concurrency. */
  maxFanOut: number;
  /** Items a map step takes. */
  maxMapItems: number;
  /** Step executions in one run (a map over 1,000 items of 3 steps is 3,000). */
  maxStepRuns: number;
  /** A run's deadline unless its definition sets a shorter one. */
  runTimeoutMs: number;
}

export const defaultPipelineLimits: PipelineLimits = {
  maxSteps: 200,
  maxDepth: 8,
  maxFanOut: 16,
  maxMapItems: 1_000,
  maxStepRuns: 5_000,
  runTimeoutMs: 300_000,
};
