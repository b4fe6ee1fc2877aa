import type { Page } from '../ports/project-repository.ts';
import type { RunJournal, RunStatus, StepRecord } from './run-journal.ts';

export const runSources = ['api', 'gateway', 'job', 'shadow'] as const;
export type RunSource = (typeof runSources)[number];

export interface RunRecord {
  id: string;
  projectId: string;
  pipeline: string;
  version: number;
  status: RunStatus;
  source: RunSource;
  shadowOf: string | null;
  /** The job whose item started the run (`source: job`), and the item's index. */
  jobId: string | null;
  jobItem: number | null;
  keyId: string | null;
  input: unknown;
  output: unknown;
  error: { code: string; message: string; step?: string } | null;
  inputTokens: number;
  outputTokens: number;
  costUsd: number | null;
  latencyMs: number | null;
  /** Times the run was taken up again after its process stopped. */
  resumed: number;
  createdAt: string;
  finishedAt: string | null;
}

export interface NewRun {
  id: string;
  projectId: string;
  pipeline: string;
  version: number;
  source: RunSource;
  shadowOf?: string | undefined;
  /** A job's item started it. */
  job?: { id: string; item: number } | undefined;
  keyId: string | null;
  input: unknown;
}

/**
 * The run a job item's delivery attempt owns, keyed `<job>:<item>:<round>:<attempt>` (round: the
 * job's retry-failed generation; attempt: the item's try within one delivery), so a task delivered
 * again finds it instead of starting a second run.
 */
export interface JobItemRun {
  id: string;
  status: RunStatus;
  output: unknown;
  error: RunRecord['error'];
  /** Running under a lease that has not run out (its process is alive). */
  leaseLive: boolean;
}

/** A run another process started and stopped tending (its lease ran out): to be resumed. */
export interface InterruptedRun {
  id: string;
  projectId: string;
  pipeline: string;
  version: number;
  input: unknown;
  keyId: string | null;
}

/**
 * Runs and their step traces. A run is owned by one process at a time through a lease the owner
 * renews; one whose lease ran out is claimed (`claimInterrupted`) and resumed from its checkpoints.
 */
export interface RunStore {
  create(run: NewRun): Promise<void>;
  /**
   * Creates the run of a job item's attempt unless one with the same key exists (created or not by
   * this call): true when this call created it.
   */
  createJobItemRun(run: NewRun & { jobKey: string }): Promise<boolean>;
  /** The run holding a job item key, if any. */
  jobItemRun(jobKey: string): Promise<JobItemRun | undefined>;
  /**
   * Takes over one running run whose lease ran out (its process died), as `claimInterrupted` does for
   * one id: undefined when it is not (any longer) such a run — finished, leased, or claimed by another
   * process meanwhile. One with a cancellation pending is ended `cancelled` instead.
   */
  adopt(runId: string): Promise<InterruptedRun | undefined>;
  /**
   * Lets go of a running run of this process without ending it (its task was given back): no owner,
   * lease ended, so the next delivery of the task — or any process — takes it over at once.
   */
  release(runId: string): Promise<void>;
  /** Frees a finished run's job item key (the run stays, listed under its job), for a new run to take it. */
  releaseJobItemKey(runId: string): Promise<void>;
  /** The journal of a run: its checkpoints loaded, its step records written as they happen. */
  journal(runId: string): Promise<RunJournal>;
  finish(
    runId: string,
    outcome: { status: Exclude<RunStatus, 'running'>; output: unknown; error: RunRecord['error']; latencyMs: number },
  ): Promise<void>;
  get(projectId: string, id: string): Promise<(RunRecord & { steps: StepRecord[] }) | undefined>;
  list(
    projectId: string,
    options: {
      limit: number;
      after?: string | undefined;
      pipeline?: string | undefined;
      status?: RunStatus | undefined;
      /** The runs a job's items started. */
      jobId?: string | undefined;
    },
  ): Promise<Page<RunRecord>>;
  /**
   * Renews the lease of every running run this process owns; answers the ids of those whose
   * cancellation was requested meanwhile (from any instance), for this process to stop them.
   */
  renewLeases(): Promise<string[]>;
  /**
   * Records that a running run is to be cancelled, and tells every instance (the one running it stops
   * it); false when the run is not running (finished, or not the project's).
   */
  requestCancel(projectId: string, runId: string): Promise<boolean>;
  /**
   * Takes over runs whose owner's lease ran out (each claimed by one process), except `running`: the
   * runs this process is running (a stalled event loop can let their lease lapse; they must not start
   * twice). Such runs with a cancellation pending are ended `cancelled` instead. Except `running`: the
   * runs this process is running (a stalled event loop can let their lease lapse; they must not start twice).
   */
  claimInterrupted(limit: number, running: readonly string[]): Promise<InterruptedRun[]>;
  /** Deletes runs that ended more than `retentionDays` ago; returns how many. */
  sweep(retentionDays: number): Promise<number>;
}
