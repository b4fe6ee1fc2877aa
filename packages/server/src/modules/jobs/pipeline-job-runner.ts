import { EnsembleError, type JobModelAnswer, type JobPipelineRun, type JobPipelineRunner } from '@ensemble/core';
import type { PipelineService } from '../pipelines/pipeline-service.ts';

/**
 * `pipeline-run` items on the pipeline service: each item's attempt starts (at most) one run of the job's pinned version
 * (`source: job`, with the job and item on the run, traced like any run) and waits for it. The item's
 * output is `{runId, output}`, its tokens and cost the run's totals. A failed run keeps its error's
 * code and retryable flag, with the run's id in the message, so the failure points at its trace.
 */
export class PipelineJobRunner implements JobPipelineRunner {
  readonly #service: Pick<PipelineService, 'startJobItem' | 'run'>;

  constructor(service: Pick<PipelineService, 'startJobItem' | 'run'>) {
    this.#service = service;
  }

  async run(run: JobPipelineRun): Promise<JobModelAnswer> {
    // Keyed by the item's delivery attempt: a task delivered again finds this run instead of starting one.
    const started = await this.#service.startJobItem({
      projectId: run.projectId,
      keyId: run.keyId,
      ref: `${run.pipeline.name}@${run.pipeline.version}`,
      input: run.input,
      job: run.job,
      signal: run.signal,
      handBack: run.handBack,
    });
    let output: unknown;
    try {
      output = (await started.result).output;
    } catch (error) {
      const failure = EnsembleError.isInstance(error) ? error : undefined;
      throw new EnsembleError(
        failure?.code ?? 'internal_error',
        `run ${started.runId}: ${error instanceof Error ? error.message : String(error)}`,
        {
          retryable: failure?.retryable ?? false,
          cause: error,
          details: { ...(failure?.details ?? {}), runId: started.runId },
          ...(failure?.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: failure.retryAfterSeconds }),
        },
      );
    }
    const record = await this.#service.run(run.projectId, started.runId);
    return {
      output: { runId: started.runId, output: output ?? null },
      inputTokens: record?.inputTokens ?? 0,
      outputTokens: record?.outputTokens ?? 0,
      costUsd: record?.costUsd ?? null,
    };
  }
}
