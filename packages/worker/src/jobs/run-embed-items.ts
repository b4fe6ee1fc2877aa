import type { Job, JobItemInput, JobModelAnswer } from '@ensemble/core';
import { attemptOnce, type ItemOutcome, type ItemRunContext, runItem } from './run-item.ts';

interface EmbeddingList {
  data?: Array<{ index?: number; embedding?: unknown }>;
}

/** An `embed` item's output: its vector alone (`{embedding}`), from answer position `at`. */
function vectorAt(answer: JobModelAnswer, at: number): { embedding: unknown } {
  const data = (answer.output as EmbeddingList).data ?? [];
  const entry = data.find((each) => each.index === at) ?? data[at];
  if (entry?.embedding === undefined) throw new Error(`the embeddings answer has no vector at index ${at}`);
  return { embedding: entry.embedding };
}

/**
 * Runs the texts of an `embed` job's items in groups of `groupSize`, one embeddings call per group
 * (a local model batches them; a hosted one bills one request). A group whose call fails is run
 * again item by item with the job's retry policy, so one bad text fails alone.
 */
export async function runEmbedItems(
  context: ItemRunContext,
  job: Job,
  items: ReadonlyArray<readonly [number, JobItemInput]>,
  groupSize: number,
  signal: AbortSignal,
): Promise<ItemOutcome[]> {
  const groups: Array<ReadonlyArray<readonly [number, JobItemInput]>> = [];
  for (let i = 0; i < items.length; i += groupSize) groups.push(items.slice(i, i + groupSize));
  const outcomes = await Promise.all(groups.map((group) => runGroup(context, job, group, signal)));
  return outcomes.flat();
}

async function runGroup(
  context: ItemRunContext,
  job: Job,
  group: ReadonlyArray<readonly [number, JobItemInput]>,
  signal: AbortSignal,
): Promise<ItemOutcome[]> {
  const alone = () =>
    Promise.all(
      group.map(([index, item]) =>
        runItem(
          context,
          { job, index, operation: 'embeddings', body: item.body, output: (answer) => vectorAt(answer, 0) },
          signal,
        ),
      ),
    );
  if (group.length === 1) return alone();
  if (signal.aborted) return group.map(() => ({ kind: 'handed-back' }));
  if (await context.watch.stopped(job.id)) return group.map(() => ({ kind: 'skipped' }));
  const startedAt = new Date();
  const tried = await attemptOnce(
    context,
    {
      job,
      index: group[0]?.[0] as number,
      operation: 'embeddings',
      body: { input: group.map(([, item]) => item.body.input) },
    },
    signal,
  );
  if (tried.kind === 'handed-back') return group.map(() => ({ kind: 'handed-back' }));
  if (tried.kind === 'failure') return alone();
  const { answer } = tried;
  let outputs: Array<{ embedding: unknown }>;
  try {
    outputs = group.map((_, at) => vectorAt(answer, at));
  } catch {
    return alone();
  }
  const finishedAt = new Date();
  const n = group.length;
  // The call's usage is shared out evenly; the job's totals stay exact.
  const share = (total: number, at: number) => Math.floor(total / n) + (at === 0 ? total % n : 0);
  return group.map(([index], at) => ({
    kind: 'result',
    result: {
      index,
      status: 'succeeded',
      output: outputs[at],
      error: null,
      attempts: 1,
      inputTokens: share(answer.inputTokens, at),
      outputTokens: share(answer.outputTokens, at),
      costUsd: answer.costUsd === null ? null : answer.costUsd / n,
      startedAt,
      finishedAt,
    },
  }));
}
