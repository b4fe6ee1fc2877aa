import {
  type BatchHandler,
  isTerminalJobStatus,
  type Job,
  type JobItemResult,
  type JobModelCaller,
  type JobPipelineRunner,
  type JobTask,
  type JobWorkStore,
  jobTaskEventType,
  jobTaskSchema,
  type Logger,
} from '@ensemble/core';
import type { CancellationWatch } from './cancellation-watch.ts';
import type { ItemSlots } from './item-slots.ts';
import { runEmbedItems } from './run-embed-items.ts';
import { type ItemOutcome, runItem } from './run-item.ts';

export interface JobTaskHandlerOptions {
  store: JobWorkStore;
  caller: JobModelCaller;
  /** Runs the items of `pipeline-run` jobs. */
  pipelines?: JobPipelineRunner | undefined;
  slots: ItemSlots;
  watch: CancellationWatch;
  logger: Logger;
  /** Texts of an `embed` job sent in one embeddings call. */
  embedGroupSize: number;
}

/** Thrown so the bus does not commit a batch whose tasks were given back unfinished. */
export class TasksHandedBack extends Error {
  constructor() {
    super('job tasks were handed back unfinished (the worker is stopping or lost the partition)');
  }
}

/**
 * Runs a batch of item tasks (consecutive records of one partition): per job, the items that have
 * no result yet run with bounded concurrency, then their results are written in one transaction.
 * The batch returns — and so its offsets are committed — only once every result is durable. A
 * cancelled or finished job's tasks are dropped; a task whose record is not a valid task is logged
 * and dropped (it could never succeed). A database failure throws, and the bus delivers the batch
 * again: items with a result by then are skipped.
 */
export function jobTaskHandler(options: JobTaskHandlerOptions): BatchHandler {
  const { store, logger, watch } = options;
  return async (messages, signal) => {
    const byJob = new Map<string, Set<number>>();
    for (const message of messages) {
      const parsed = message.value.type === jobTaskEventType ? jobTaskSchema.safeParse(message.value.data) : undefined;
      if (!parsed?.success) {
        logger.warn({ offset: message.offset, type: message.value.type }, 'not a job task; dropped');
        continue;
      }
      const task: JobTask = parsed.data;
      const indexes = byJob.get(task.jobId) ?? new Set<number>();
      indexes.add(task.index);
      byJob.set(task.jobId, indexes);
    }
    if (byJob.size === 0) return;
    const jobs = await store.jobs([...byJob.keys()]);
    const settled = await Promise.allSettled(
      [...byJob].map(async ([jobId, indexes]) => {
        const job = jobs.get(jobId);
        if (job === undefined) {
          // Another deployment's task on a shared bus, or a job deleted since: nothing to do.
          logger.debug({ jobId }, 'tasks of an unknown job; dropped');
          return false;
        }
        if (isTerminalJobStatus(job.status)) {
          watch.note(job.id, job.status);
          return false;
        }
        return runJobItems(options, job, [...indexes], signal);
      }),
    );
    const failure = settled.find((each) => each.status === 'rejected');
    if (failure !== undefined) throw failure.reason;
    if (settled.some((each) => each.status === 'fulfilled' && each.value)) throw new TasksHandedBack();
  };
}

/** Runs the job's pending items among `indexes` and records their results; true if some were handed back. */
async function runJobItems(
  options: JobTaskHandlerOptions,
  job: Job,
  indexes: number[],
  signal: AbortSignal,
): Promise<boolean> {
  const inputs = await options.store.pendingInputs(job.id, indexes);
  if (inputs.size === 0) return false;
  const items = [...inputs].sort(([a], [b]) => a - b);
  const context = { caller: options.caller, pipelines: options.pipelines, slots: options.slots, watch: options.watch };
  const operation = job.type === 'pipeline-run' ? 'pipeline' : job.target.kind === 'chat' ? 'chat' : 'embeddings';
  const outcomes: ItemOutcome[] =
    job.type === 'embed'
      ? await runEmbedItems(context, job, items, options.embedGroupSize, signal)
      : await Promise.all(
          items.map(([index, item]) => runItem(context, { job, index, operation, body: item.body }, signal)),
        );
  const results: JobItemResult[] = [];
  let handedBack = false;
  for (const outcome of outcomes) {
    if (outcome.kind === 'result') results.push(outcome.result);
    else if (outcome.kind === 'handed-back') handedBack = true;
  }
  // What finished is kept even when the rest is given back: the next delivery skips it.
  if (results.length > 0) await options.store.recordResults(job.id, results);
  return handedBack;
}
