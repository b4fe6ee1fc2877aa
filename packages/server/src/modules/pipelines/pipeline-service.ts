import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  EnsembleError,
  errorOf,
  isErrorCode,
  type Logger,
  type PipelineEvent,
  type PipelineExecutor,
  type PipelineRepository,
  parsePipelineRef,
  type ResolvedPipeline,
  type RunRecord,
  type RunResult,
  type RunSource,
  type RunStore,
} from '@ensemble/core';

export interface PipelineServiceOptions {
  executor: PipelineExecutor;
  pipelines: PipelineRepository;
  runs: RunStore;
  logger: Logger;
  /** Between two lease renewals of this process's runs (a third of the lease). */
  leaseMs: number;
  /** Whole days finished runs are kept. */
  retentionDays: number;
  /** Draws for the canary split (tests pass a fixed source). */
  random?: () => number;
}

export interface StartRun {
  projectId: string;
  keyId: string | null;
  /** `name`, `name@3`, `name:alias`. */
  ref: string;
  input: unknown;
  source: RunSource;
  signal?: AbortSignal | undefined;
  onEvent?: ((event: PipelineEvent) => void) | undefined;
  /** Where the ref came from, for error messages (`params.name`, `body.model`). */
  field?: string;
  /** The job item that starts the run (`source: job`). */
  job?: { id: string; item: number } | undefined;
}

export interface StartedRun {
  runId: string;
  pipeline: ResolvedPipeline;
  /** Settles when the run ends: its output, or the error naming the failed step. */
  result: Promise<RunResult>;
}

/**
 * Runs pipelines: resolves the ref (a bare name follows the rollout: the canary takes its share),
 * checks the input before anything is stored, records the run and its steps (the trace and the
 * checkpoints), runs it, records how it ended, and afterwards runs the shadow version on the same
 * input when one is set. Runs are leased; runs of processes that died are resumed from their
 * checkpoints by whichever process notices first.
 */
export class PipelineService {
  readonly #options: PipelineServiceOptions;
  readonly #random: () => number;
  readonly #active = new Map<string, AbortController>();
  readonly #timers: NodeJS.Timeout[] = [];
  #closed = false;

  constructor(options: PipelineServiceOptions) {
    this.#options = options;
    this.#random = options.random ?? Math.random;
  }

  /** Starts the lease renewals, the resumption of interrupted runs and the retention sweep. */
  startBackground(): void {
    const { leaseMs, logger } = this.#options;
    const every = (ms: number, work: () => Promise<unknown>) => {
      const timer = setInterval(() => {
        work().catch((error: unknown) => logger.warn({ err: error }, 'pipeline runs: background work failed'));
      }, ms);
      timer.unref();
      this.#timers.push(timer);
    };
    // Renewing the leases also picks up cancellations requested elsewhere whose notification was missed.
    every(Math.max(100, Math.floor(leaseMs / 3)), async () => {
      for (const runId of await this.#options.runs.renewLeases()) this.cancel(runId);
    });
    every(Math.max(200, Math.floor(leaseMs / 2)), () => this.resumeInterrupted());
    every(3_600_000, () => this.#options.runs.sweep(this.#options.retentionDays));
    void this.resumeInterrupted().catch((error: unknown) =>
      logger.warn({ err: error }, 'pipeline runs: resume failed'),
    );
    void this.#options.runs.sweep(this.#options.retentionDays).catch(() => {});
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers) clearInterval(timer);
  }

  /** The version a ref runs: a bare name takes the canary's share of the runs, the rest go where it resolves. */
  async resolve(
    projectId: string,
    ref: string,
    field = 'pipeline',
  ): Promise<{ pipeline: ResolvedPipeline; shadow: number | undefined }> {
    const parsed = parsePipelineRef(ref, field);
    const { pipelines } = this.#options;
    let chosen = ref;
    let shadow: number | undefined;
    if (parsed.version === undefined && parsed.alias === undefined) {
      const stored = await pipelines.get(projectId, parsed.name);
      const rollout = stored?.rollout;
      if (rollout?.canary !== undefined && this.#random() * 100 < rollout.canary.percent) {
        chosen = `${parsed.name}@${rollout.canary.version}`;
      }
      if (rollout?.shadow !== undefined && this.#random() * 100 < rollout.shadow.percent)
        shadow = rollout.shadow.version;
    }
    const pipeline = await pipelines.resolve(projectId, chosen);
    if (pipeline === undefined) {
      throw new EnsembleError('not_found', `pipeline '${ref}' does not exist in project '${projectId}'`, { field });
    }
    return { pipeline, shadow: shadow === pipeline.version ? undefined : shadow };
  }

  /**
   * The version a ref names, without the canary's draw (a job pins one version for all its items);
   * an unknown pipeline is a 400 naming `field`, since the ref is part of the request.
   */
  async pin(projectId: string, ref: string, field: string): Promise<ResolvedPipeline> {
    const parsed = parsePipelineRef(ref, field); // a malformed ref is a 400 naming the field
    if (parsed.version !== undefined && parsed.version > 2_147_483_647) {
      throw new EnsembleError('validation_failed', `${field}: '${ref}': no such version`, { field });
    }
    const pipeline = await this.#options.pipelines.resolve(projectId, ref);
    if (pipeline === undefined) {
      throw new EnsembleError(
        'validation_failed',
        `${field}: pipeline '${ref}' does not exist in project '${projectId}'`,
        {
          field,
        },
      );
    }
    return pipeline;
  }

  /** The input as the pipeline's input schema accepts it, or a `validation_failed` naming `input.<path>`. */
  checkInput(pipeline: ResolvedPipeline, input: unknown): unknown {
    return this.#options.executor.checkInput(pipeline.definition, input);
  }

  async start(run: StartRun): Promise<StartedRun> {
    const { pipeline, shadow } = await this.resolve(run.projectId, run.ref, run.field);
    const input = this.#options.executor.checkInput(pipeline.definition, run.input);
    const runId = newRunId();
    await this.#options.runs.create({
      id: runId,
      projectId: run.projectId,
      pipeline: pipeline.name,
      version: pipeline.version,
      source: run.source,
      job: run.job,
      keyId: run.keyId,
      input,
    });
    const result = this.#execute(runId, run.projectId, pipeline, input, run.signal, run.onEvent);
    if (shadow !== undefined) {
      // The shadow runs after the primary, on the same input; its answer goes nowhere but its trace.
      result.then(
        () => this.#shadow(run, runId, pipeline.name, shadow, input),
        () => this.#shadow(run, runId, pipeline.name, shadow, input),
      );
    }
    return { runId, pipeline, result };
  }

  /**
   * The run of one delivery attempt of a `pipeline-run` job item (keyed by job, item, round and
   * attempt), started at most once whatever the bus redelivers: the first delivery starts it; a
   * later one finds it and takes its result if it ended, waits for it while another live process
   * runs it, takes it over (resumed from its checkpoints, here) once its process's lease ran out,
   * and starts a new run only when it was cancelled. A task given back (`handBack`) lets go of its run
   * without ending it, for the next delivery to take over.
   */
  async startJobItem(
    run: Omit<StartRun, 'job' | 'onEvent' | 'source'> & {
      job: { id: string; item: number; round: number; attempt: number };
      /** Aborted when the worker gives the task back: the run is let go, not ended (see `JobPipelineRun`). */
      handBack?: AbortSignal | undefined;
    },
  ): Promise<StartedRun> {
    const pipeline = await this.pin(run.projectId, run.ref, run.field ?? 'pipeline');
    const input = this.#options.executor.checkInput(pipeline.definition, run.input);
    const { runs } = this.#options;
    const jobKey = `${run.job.id}:${run.job.item}:${run.job.round}:${run.job.attempt}`;
    for (;;) {
      run.signal?.throwIfAborted();
      const runId = newRunId();
      const created = await runs.createJobItemRun({
        id: runId,
        projectId: run.projectId,
        pipeline: pipeline.name,
        version: pipeline.version,
        source: 'job',
        job: { id: run.job.id, item: run.job.item },
        keyId: run.keyId,
        input,
        jobKey,
      });
      if (created) {
        return {
          runId,
          pipeline,
          result: this.#execute(runId, run.projectId, pipeline, input, run.signal, undefined, run.handBack),
        };
      }
      const existing = await runs.jobItemRun(jobKey);
      if (existing === undefined) continue; // its key was given up meanwhile: take it
      if (existing.status === 'succeeded') {
        const output = existing.output;
        return { runId: existing.id, pipeline, result: Promise.resolve({ output, state: {} }) };
      }
      if (existing.status === 'failed') {
        return { runId: existing.id, pipeline, result: Promise.reject(storedFailure(existing.error)) };
      }
      if (existing.status === 'cancelled') {
        // Cancelled before it ended (`POST /api/runs/{id}/cancel`): its work is not done; a new run.
        await runs.releaseJobItemKey(existing.id);
        continue;
      }
      if (!existing.leaseLive && !this.#active.has(existing.id)) {
        const adopted = await runs.adopt(existing.id);
        if (adopted !== undefined) {
          this.#options.logger.info({ runId: adopted.id, jobKey }, 'taking over the run of a redelivered job item');
          return {
            runId: adopted.id,
            pipeline,
            result: this.#execute(
              adopted.id,
              run.projectId,
              pipeline,
              adopted.input,
              run.signal,
              undefined,
              run.handBack,
            ),
          };
        }
        continue;
      }
      // Another live process runs it (or this one does): wait for it to end.
      await sleep(jobItemRunPollMs, undefined, run.signal ? { signal: run.signal } : undefined);
    }
  }

  /** Every pipeline of a project (for `/v1/models`). */
  async list(projectId: string): Promise<Array<{ name: string; createdAt: string }>> {
    const all: Array<{ name: string; createdAt: string }> = [];
    let after: string | undefined;
    do {
      const page = await this.#options.pipelines.list(projectId, { limit: 200, after });
      all.push(...page.items.map((item) => ({ name: item.name, createdAt: item.createdAt })));
      after = page.nextCursor;
    } while (after !== undefined);
    return all;
  }

  /** The run as stored (its totals once it ended). */
  run(projectId: string, runId: string): Promise<RunRecord | undefined> {
    return this.#options.runs.get(projectId, runId);
  }

  /**
   * Cancels a running run wherever it runs: stopped here at once if this process runs it; recorded
   * and announced to every instance otherwise (the one running it stops it as the notification
   * arrives, or at its next lease renewal). False when the run is not running.
   */
  async requestCancel(projectId: string, runId: string): Promise<boolean> {
    const requested = await this.#options.runs.requestCancel(projectId, runId);
    if (requested) this.cancel(runId);
    return requested;
  }

  /** Stops a run of this process; false when it is not running here. */
  cancel(runId: string): boolean {
    const controller = this.#active.get(runId);
    if (controller === undefined) return false;
    controller.abort(new EnsembleError('request_timeout', 'the run was cancelled', { retryable: false }));
    return true;
  }

  /** Takes over runs whose process stopped renewing their lease, and finishes them from their checkpoints. */
  async resumeInterrupted(): Promise<number> {
    if (this.#closed) return 0;
    const claimed = await this.#options.runs.claimInterrupted(16, [...this.#active.keys()]);
    for (const run of claimed) {
      this.#options.logger.info(
        { runId: run.id, pipeline: `${run.pipeline}@${run.version}` },
        'resuming an interrupted pipeline run',
      );
      const pipeline = await this.#options.pipelines.resolve(run.projectId, `${run.pipeline}@${run.version}`);
      if (pipeline === undefined) {
        await this.#options.runs.finish(run.id, {
          status: 'failed',
          output: null,
          error: { code: 'not_found', message: `pipeline '${run.pipeline}@${run.version}' no longer exists` },
          latencyMs: 0,
        });
        continue;
      }
      this.#execute(run.id, run.projectId, pipeline, run.input, undefined, undefined).catch(() => {});
    }
    return claimed.length;
  }

  async #execute(
    runId: string,
    projectId: string,
    pipeline: ResolvedPipeline,
    input: unknown,
    signal: AbortSignal | undefined,
    onEvent: ((event: PipelineEvent) => void) | undefined,
    handBack?: AbortSignal | undefined,
  ): Promise<RunResult> {
    const { executor, runs } = this.#options;
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    this.#active.set(runId, controller);
    const started = performance.now();
    try {
      const journal = await runs.journal(runId);
      const result = await executor.run(pipeline.definition, {
        projectId,
        runId,
        input,
        journal,
        signal: controller.signal,
        onEvent,
      });
      await runs.finish(runId, {
        status: 'succeeded',
        output: result.output,
        error: null,
        latencyMs: elapsed(started),
      });
      return result;
    } catch (error) {
      if (handBack?.aborted) {
        // Given back, not ended: whoever gets the task next takes the run over from its checkpoints.
        await runs
          .release(runId)
          .catch((releaseError: unknown) =>
            this.#options.logger.warn({ err: releaseError, runId }, 'could not let go of a pipeline run'),
          );
        throw error;
      }
      const failure = errorOf(error);
      const step = EnsembleError.isInstance(error) ? error.details?.step : undefined;
      const error_: RunRecord['error'] = typeof step === 'string' ? { ...failure, step } : failure;
      await runs
        .finish(runId, {
          status: controller.signal.aborted && !isTimeout(error) ? 'cancelled' : 'failed',
          output: null,
          error: error_,
          latencyMs: elapsed(started),
        })
        .catch((finishError: unknown) =>
          this.#options.logger.warn({ err: finishError, runId }, 'could not record how a pipeline run ended'),
        );
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.#active.delete(runId);
    }
  }

  async #shadow(run: StartRun, primary: string, name: string, version: number, input: unknown): Promise<void> {
    try {
      const pipeline = await this.#options.pipelines.resolve(run.projectId, `${name}@${version}`);
      if (pipeline === undefined) return;
      const runId = newRunId();
      await this.#options.runs.create({
        id: runId,
        projectId: run.projectId,
        pipeline: name,
        version,
        source: 'shadow',
        shadowOf: primary,
        keyId: run.keyId,
        input,
      });
      await this.#execute(runId, run.projectId, pipeline, input, undefined, undefined);
    } catch (error) {
      this.#options.logger.info({ err: error, shadowOf: primary }, 'a shadow pipeline run failed');
    }
  }
}

/** How often a redelivered job item looks at the run another process is running for it. */
const jobItemRunPollMs = 250;

/** A finished run's stored error as the error its item fails with (retryable as its code is). */
function storedFailure(error: RunRecord['error']): EnsembleError {
  const code = isErrorCode(error?.code) ? error.code : 'internal_error';
  return new EnsembleError(code, error?.message ?? 'the run failed', {
    ...(error?.step === undefined ? {} : { details: { step: error.step } }),
  });
}

function isTimeout(error: unknown): boolean {
  return EnsembleError.isInstance(error) && error.code === 'timeout';
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}

export function newRunId(): string {
  return `run_${randomBytes(15).toString('base64url').replace(/[-_]/g, 'x').slice(0, 20)}`;
}
