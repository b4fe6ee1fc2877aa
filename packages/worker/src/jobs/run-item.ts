import { setTimeout as sleep } from 'node:timers/promises';
import {
  EnsembleError,
  type Job,
  type JobItemResult,
  type JobModelAnswer,
  type JobModelCaller,
  type JobPipelineRunner,
  jobRetryDelayMs,
} from '@ensemble/core';
import type { CancellationWatch } from './cancellation-watch.ts';
import { type AttemptFailure, attemptFailure } from './item-failure.ts';
import type { ItemSlots } from './item-slots.ts';

/** What running an item came to. */
export type ItemOutcome =
  | { kind: 'result'; result: JobItemResult }
  /** The job was cancelled (or deleted) before the item ran: no result, ever. */
  | { kind: 'skipped' }
  /** The worker is giving its tasks back (shutdown, rebalance): no result now, the task comes again. */
  | { kind: 'handed-back' };

export interface ItemRunContext {
  caller: JobModelCaller;
  /** Runs `pipeline-run` items; without it they fail (not retried). */
  pipelines?: JobPipelineRunner | undefined;
  slots: ItemSlots;
  watch: CancellationWatch;
}

/** One call of the job's model, as many times as the job's retry policy allows; `answer` shapes the output. */
export interface ItemCall {
  job: Job;
  index: number;
  operation: 'chat' | 'embeddings' | 'pipeline';
  body: Record<string, unknown>;
  output?: (answer: JobModelAnswer) => unknown;
}

/**
 * Runs one item: waits for a model-call slot, calls with the item's timeout, and retries retryable
 * failures with backoff. A cancelled job stops it before any attempt; `signal` (the worker handing
 * the task back) stops it anywhere, and then nothing is recorded.
 */
export async function runItem(context: ItemRunContext, call: ItemCall, signal: AbortSignal): Promise<ItemOutcome> {
  const { job } = call;
  const startedAt = new Date();
  for (let attempt = 1; ; attempt++) {
    if (signal.aborted) return { kind: 'handed-back' };
    if (await context.watch.stopped(job.id)) return { kind: 'skipped' };
    const tried = await attemptOnce(context, { ...call, attempt }, signal);
    if (tried.kind === 'handed-back') return tried;
    if (tried.kind === 'answer') {
      const { answer } = tried;
      return {
        kind: 'result',
        result: {
          index: call.index,
          status: 'succeeded',
          output: call.output ? call.output(answer) : answer.output,
          error: null,
          attempts: attempt,
          inputTokens: answer.inputTokens,
          outputTokens: answer.outputTokens,
          costUsd: answer.costUsd,
          startedAt,
          finishedAt: new Date(),
        },
      };
    }
    const { error, retryAfterSeconds } = tried.failure;
    if (!error.retryable || attempt >= job.retry.maxAttempts) {
      return {
        kind: 'result',
        result: {
          index: call.index,
          status: 'failed',
          output: null,
          error,
          attempts: attempt,
          inputTokens: 0,
          outputTokens: 0,
          costUsd: null,
          startedAt,
          finishedAt: new Date(),
        },
      };
    }
    await sleep(jobRetryDelayMs(job.retry, attempt, retryAfterSeconds), undefined, { signal }).catch(() => undefined);
  }
}

/** A `pipeline-run` item: one run of the job's pipeline version on the item's input. */
function runPipeline(
  context: ItemRunContext,
  job: Job,
  item: { index: number; attempt: number },
  body: Record<string, unknown>,
  signal: AbortSignal,
  handBack: AbortSignal,
): Promise<JobModelAnswer> {
  if (context.pipelines === undefined) {
    return Promise.reject(
      new EnsembleError('internal_error', 'this worker does not run pipelines', { retryable: false }),
    );
  }
  return context.pipelines.run({
    projectId: job.projectId,
    pipeline: { name: job.target.name, version: job.target.version },
    input: body.input,
    job: { id: job.id, item: item.index, round: job.round, attempt: item.attempt },
    keyId: job.createdBy,
    signal,
    handBack,
  });
}

type Attempt =
  | { kind: 'answer'; answer: JobModelAnswer }
  | { kind: 'failure'; failure: AttemptFailure }
  | { kind: 'handed-back' };

/** One call in a slot, bounded by the item's timeout. */
export async function attemptOnce(
  context: ItemRunContext,
  call: Pick<ItemCall, 'job' | 'operation' | 'body'> & {
    index?: number | undefined;
    /** The item's try within this delivery (1, 2, …): with the index, it keys a pipeline item's run. */
    attempt?: number | undefined;
  },
  signal: AbortSignal,
): Promise<Attempt> {
  const { job } = call;
  if (!(await context.slots.acquire(job.priority, signal))) return { kind: 'handed-back' };
  const timeout = AbortSignal.timeout(job.itemTimeoutMs);
  try {
    const answer =
      call.operation === 'pipeline'
        ? await runPipeline(
            context,
            job,
            { index: call.index ?? 0, attempt: call.attempt ?? 1 },
            call.body,
            AbortSignal.any([signal, timeout]),
            signal,
          )
        : await context.caller.call({
            projectId: job.projectId,
            ...(job.target.type === 'route'
              ? { model: job.target.name, route: { name: job.target.name, version: job.target.version } }
              : { model: `${job.target.name}@${job.target.version}` }),
            operation: call.operation,
            body: call.body,
            signal: AbortSignal.any([signal, timeout]),
            usage: { requestId: `${job.id}:${call.index ?? 'batch'}`, keyId: job.createdBy },
          });
    return { kind: 'answer', answer };
  } catch (error) {
    if (signal.aborted) return { kind: 'handed-back' };
    return { kind: 'failure', failure: attemptFailure(error, timeout.aborted, job.itemTimeoutMs) };
  } finally {
    context.slots.release();
  }
}
