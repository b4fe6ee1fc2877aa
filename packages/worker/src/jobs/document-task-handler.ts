import {
  type ArtifactStore,
  type BatchHandler,
  type Collection,
  type CollectionService,
  type DocumentChunker,
  deleteDocument,
  EnsembleError,
  ingestDocument,
  ingestJobItemSchema,
  isTerminalJobStatus,
  type Job,
  type JobItemResult,
  type JobTask,
  type JobWorkStore,
  jobTaskEventType,
  jobTaskSchema,
  type Logger,
} from '@ensemble/core';
import type { CancellationWatch } from './cancellation-watch.ts';
import { attemptFailure } from './item-failure.ts';
import { TasksHandedBack } from './job-task-handler.ts';

export interface DocumentTaskHandlerOptions {
  store: JobWorkStore;
  collections: CollectionService;
  chunker: DocumentChunker;
  artifacts: ArtifactStore;
  watch: CancellationWatch;
  logger: Logger;
  /** Chunks embedded and upserted per step, each step one progress event. Default 64. */
  stepSize?: number;
  /** How often a running document checks whether its job was cancelled. Default 500 ms. */
  cancelPollMs?: number;
}

type Outcome = { kind: 'result'; result: JobItemResult } | { kind: 'handed-back' } | { kind: 'stopped' };

/**
 * Runs the tasks of ingestion jobs (`ensemble.documents`), one document per task: its bytes from
 * the artifact store, parsed and split off the event loop, embedded with the collection's model and
 * upserted step by step — each step adds to the job's chunk progress (a `job.progressed` event) — and
 * the item's result (`{documentId, chunks, removed}`) written once the document is in. Cancelling the
 * job stops a running document within `cancelPollMs` (the parsing thread is terminated, no further
 * step starts); the item's timeout stops it the same way and fails it.
 */
export function documentTaskHandler(options: DocumentTaskHandlerOptions): BatchHandler {
  const { store, logger, watch } = options;
  return async (messages, signal) => {
    const tasks: JobTask[] = [];
    for (const message of messages) {
      const parsed = message.value.type === jobTaskEventType ? jobTaskSchema.safeParse(message.value.data) : undefined;
      if (parsed?.success) tasks.push(parsed.data);
      else logger.warn({ offset: message.offset, type: message.value.type }, 'not a document task; dropped');
    }
    if (tasks.length === 0) return;
    const jobs = await store.jobs([...new Set(tasks.map((task) => task.jobId))]);
    let handedBack = false;
    // One document at a time per partition: a document is already thousands of chunks of work.
    for (const task of tasks) {
      const job = jobs.get(task.jobId);
      if (job === undefined) continue;
      if (isTerminalJobStatus(job.status) || (await watch.stopped(job.id))) continue;
      const inputs = await store.pendingInputs(job.id, [task.index]);
      const input = inputs.get(task.index);
      if (input === undefined) continue;
      const outcome = await runDocument(options, job, task.index, input.body, signal);
      if (outcome.kind === 'result') await store.recordResults(job.id, [outcome.result]);
      else if (outcome.kind === 'handed-back') handedBack = true;
    }
    if (handedBack) throw new TasksHandedBack();
  };
}

async function runDocument(
  options: DocumentTaskHandlerOptions,
  job: Job,
  index: number,
  body: Record<string, unknown>,
  batchSignal: AbortSignal,
): Promise<Outcome> {
  const startedAt = new Date();
  const done = (result: Pick<JobItemResult, 'status' | 'output' | 'error'>): Outcome => ({
    kind: 'result',
    result: {
      index,
      ...result,
      attempts: 1,
      inputTokens: 0,
      outputTokens: 0,
      costUsd: null,
      startedAt,
      finishedAt: new Date(),
    },
  });
  const parsed = ingestJobItemSchema.safeParse(body);
  if (!parsed.success) {
    return done({
      status: 'failed',
      output: null,
      error: { code: 'validation_failed', message: 'not a document of an ingestion job', retryable: false },
    });
  }
  const { collection: name, document } = parsed.data;

  const stop = new AbortController();
  let cancelled = false;
  let timedOut = false;
  const onBatchAbort = () => stop.abort(batchSignal.reason);
  batchSignal.addEventListener('abort', onBatchAbort, { once: true });
  const timer = setTimeout(() => {
    timedOut = true;
    stop.abort(new EnsembleError('timeout', `the document did not finish within ${job.itemTimeoutMs} ms`));
  }, job.itemTimeoutMs);
  const poll = setInterval(() => {
    void options.watch.stopped(job.id).then((stopped) => {
      if (stopped && !stop.signal.aborted) {
        cancelled = true;
        stop.abort(new EnsembleError('conflict', 'the job was cancelled'));
      }
    });
  }, options.cancelPollMs ?? 500);
  let collection: Collection | undefined;
  // Set once the document is split: from then on chunks may be written (before, an earlier version is intact).
  let writing = false;
  try {
    collection = await options.collections.get(job.projectId, name);
    const bytes = await readAll(await options.artifacts.open(document.artifact));
    const result = await ingestDocument(
      options.collections,
      options.chunker,
      collection,
      {
        id: document.id,
        type: document.type,
        bytes,
        ...(document.source === undefined ? {} : { source: document.source }),
        ...(document.namespace === undefined ? {} : { namespace: document.namespace }),
      },
      {
        chunkSize: document.chunkSize,
        chunkOverlap: document.chunkOverlap,
        batchSize: options.stepSize ?? 64,
        signal: stop.signal,
        // Figures for this item, set rather than added: a document run again reports them again.
        onChunked: (total) => {
          writing = true;
          return options.store.reportItemProgress(job.id, index, { done: 0, total });
        },
        onProgress: (stored, total) => options.store.reportItemProgress(job.id, index, { done: stored, total }),
      },
    );
    return done({ status: 'succeeded', output: result, error: null });
  } catch (error) {
    // Handed back (shutdown, rebalance): the chunks stay; the next delivery rewrites the same ids.
    if (!cancelled && batchSignal.aborted && !timedOut) return { kind: 'handed-back' };
    // Cancelled, or failed for good (ingestion items are not retried) once chunks may have been written:
    // no half-ingested document stays searchable — every chunk under its id goes, an earlier version's
    // too (it was being overwritten). A document that never got past parsing leaves things as they were.
    if (collection !== undefined && writing) await undoDocument(options, job, index, collection, document);
    if (cancelled) return { kind: 'stopped' };
    options.logger.info({ jobId: job.id, index, error: (error as Error).message }, 'document ingestion failed');
    return done({ status: 'failed', output: null, error: attemptFailure(error, timedOut, job.itemTimeoutMs).error });
  } finally {
    clearTimeout(timer);
    clearInterval(poll);
    batchSignal.removeEventListener('abort', onBatchAbort);
  }
}

/**
 * Removes the chunks a cancelled or failed document wrote (vectors and their metadata) and sets its
 * progress back to none stored. A failure here is logged: the job's answer stands, and deleting or
 * re-ingesting the document removes what is left.
 */
async function undoDocument(
  options: DocumentTaskHandlerOptions,
  job: Job,
  index: number,
  collection: Collection,
  document: { id: string; namespace?: string | undefined },
): Promise<void> {
  try {
    const removed = await deleteDocument(options.collections, collection, document.id, document.namespace);
    await options.store.clearItemProgress(job.id, index);
    options.logger.info(
      { jobId: job.id, documentId: document.id, removed },
      'removed the chunks of an unfinished document',
    );
  } catch (error) {
    options.logger.warn(
      { err: error, jobId: job.id, documentId: document.id },
      'could not remove the chunks of an unfinished document',
    );
  }
}

async function readAll(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of source) parts.push(part);
  return Buffer.concat(parts);
}
