/**
 * bench/pipelines: the orchestration overhead per step. A 10-step pipeline of instant steps run by
 * `PipelineExecutor` (checkpoint lookup, trace records into an in-memory journal, events, the LCEL
 * sequence it compiles to) against the same work as a plain LCEL `RunnableSequence` of 10
 * `RunnableLambda`s invoked directly. Overhead per step = (executor − LCEL) / 10.
 *
 *   node bench/pipelines/overhead.ts [--runs 5000] [--rounds 5]
 */
import { parseArgs } from 'node:util';
import {
  type Clock,
  defaultPipelineLimits,
  MemoryRunJournal,
  type PipelineDefinition,
  PipelineExecutor,
  renderTemplate,
} from '@ensemble/core';
import { RunnableLambda, RunnableSequence } from '@langchain/core/runnables';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '5000' }, rounds: { type: 'string', default: '5' } },
});
const runs = Number(values.runs);
const rounds = Number(values.rounds);
const stepCount = 10;

const clock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(signal.reason);
      });
    }),
};

// Instant steps: each fills a template from the previous step's result.
const definition: PipelineDefinition = {
  steps: Array.from({ length: stepCount }, (_, index) => ({
    id: `s${index}`,
    kind: 'prompt' as const,
    template: index === 0 ? 'x{{input.text}}' : `x{{s${index - 1}}}`,
  })),
};
const executor = new PipelineExecutor({ clock, limits: defaultPipelineLimits });

const lcel = RunnableSequence.from(
  definition.steps.map((step) =>
    RunnableLambda.from((state: Record<string, unknown>) => {
      state[step.id] = renderTemplate((step as { template: string }).template, state);
      return state;
    }),
  ) as never,
) as unknown as RunnableSequence<Record<string, unknown>, Record<string, unknown>>;

async function timeExecutor(): Promise<number> {
  const started = performance.now();
  for (let index = 0; index < runs; index += 1) {
    await executor.run(definition, {
      projectId: 'bench',
      runId: 'run_bench',
      input: { text: 'a' },
      journal: new MemoryRunJournal(),
      onEvent: () => {},
    });
  }
  return ((performance.now() - started) * 1000) / runs;
}

async function timeLcel(): Promise<number> {
  const started = performance.now();
  for (let index = 0; index < runs; index += 1) await lcel.invoke({ input: { text: 'a' } });
  return ((performance.now() - started) * 1000) / runs;
}

const median = (numbers: number[]) => [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)] as number;

// Warm up both (JIT, LangChain's lazy imports).
await timeExecutor();
await timeLcel();

const ours: number[] = [];
const theirs: number[] = [];
for (let round = 0; round < rounds; round += 1) {
  theirs.push(await timeLcel());
  ours.push(await timeExecutor());
}
const executorUs = median(ours);
const lcelUs = median(theirs);
const perStep = (executorUs - lcelUs) / stepCount;
console.log(
  JSON.stringify(
    {
      node: process.version,
      runs,
      rounds,
      steps: stepCount,
      lcelRunUs: Math.round(lcelUs * 10) / 10,
      executorRunUs: Math.round(executorUs * 10) / 10,
      overheadPerStepUs: Math.round(perStep * 10) / 10,
      lcelPerStepUs: Math.round((lcelUs / stepCount) * 10) / 10,
      rounds_lcel: theirs.map((value) => Math.round(value)),
      rounds_executor: ours.map((value) => Math.round(value)),
    },
    null,
    2,
  ),
);
