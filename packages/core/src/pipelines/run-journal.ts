import type { StepKind } from './pipeline-definition.ts';

export const runStatuses = ['running', 'succeeded', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof runStatuses)[number];

/** One step of one run: its trace, and (when it succeeded) its checkpoint. */
export interface StepRecord {
  /** Where the step sits in the run: `summarise`, `chunks[2]/summary`, `vote/b1`, `answer~fallback`. */
  path: string;
  /** The enclosing step's path; null at the top. */
  parentPath: string | null;
  stepId: string;
  kind: StepKind;
  status: 'running' | 'succeeded' | 'failed';
  /** Attempts made (1 when the first one did). */
  attempt: number;
  /** What the step worked on: the rendered prompt, the messages, the query... */
  input: unknown;
  output: unknown;
  /** `name@version` of the model that answered (model, embed, classify steps). */
  model: string | null;
  inputTokens: number;
  outputTokens: number;
  costUsd: number | null;
  latencyMs: number;
  error: { code: string; message: string } | null;
  startedAt: string;
  finishedAt: string | null;
  /** Served from the step cache. */
  cached: boolean;
}

/**
 * Where a run's steps are recorded. A finished step's record is its checkpoint: a run started again
 * (after a crash) gets its finished steps from `finished` instead of running them again. The
 * executor awaits `stepFinished` before going on, so a step acknowledged here is never run twice.
 */
export interface RunJournal {
  /** The record of a step that already succeeded in this run (a checkpoint), if any. */
  finished(path: string): StepRecord | undefined;
  stepStarted(record: StepRecord): void | Promise<void>;
  stepFinished(record: StepRecord): void | Promise<void>;
}

/** A journal in memory: for tests, benchmarks, and runs nobody needs to resume. */
export class MemoryRunJournal implements RunJournal {
  readonly records = new Map<string, StepRecord>();

  constructor(checkpoints: Iterable<StepRecord> = []) {
    for (const record of checkpoints) this.records.set(record.path, record);
  }

  finished(path: string): StepRecord | undefined {
    const record = this.records.get(path);
    return record?.status === 'succeeded' ? record : undefined;
  }

  stepStarted(record: StepRecord): void {
    this.records.set(record.path, record);
  }

  stepFinished(record: StepRecord): void {
    this.records.set(record.path, record);
  }
}
