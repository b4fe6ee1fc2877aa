/**
 * Local models benchmark: embeddings per second one-by-one vs dynamic batching at 1, 8 and 64
 * concurrent callers, and the local LLM's time to first token and tokens per second.
 *
 *   node bench/models/run.ts [--rounds 3] [--seconds 3] [--llm-runs 5] [--llm-tokens 64]
 *                            [--callers 1,8,64] [--replicas N] [--threads N] [--max-batch 64]
 *                            [--window 3] [--texts short|mixed] [--no-llm]
 *
 * Both modes run on the same deployment (replicas, threads, model); one-by-one only turns batching
 * off (`batchWindowMs: 0`). Replicas and threads default to `deployment-settings.ts`'s defaults.
 * Each round measures both modes at each concurrency, alternating which goes first; the table has
 * the medians of the rounds (the machine is shared, so single runs swing) and the batch size that
 * dynamic batching formed (texts per model call).
 */
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LocalArtifactStore } from '@ensemble/adapters/artifacts';
import { type ModelRuntime, type RuntimeSpec, silentLogger } from '@ensemble/core';
import {
  builtInModels,
  createLocalProvider,
  deploymentSettings,
  LocalEmbeddings,
  pullBuiltInModels,
} from '@ensemble/providers/local';
import { HumanMessage } from '@langchain/core/messages';
import { mixedText, sentence } from './sentences.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '3' },
    'llm-runs': { type: 'string', default: '5' },
    'llm-tokens': { type: 'string', default: '64' },
    callers: { type: 'string', default: '1,8,64' },
    replicas: { type: 'string' },
    threads: { type: 'string' },
    'max-batch': { type: 'string', default: '64' },
    window: { type: 'string', default: '3' },
    texts: { type: 'string', default: 'short' },
    'no-llm': { type: 'boolean', default: false },
  },
});
const text = values.texts === 'mixed' ? mixedText : sentence;
const loads = [loadavg()[0] ?? 0];
const seconds = Number(values.seconds);
const root =
  process.env.ENSEMBLE_TEST_ARTIFACTS ?? fileURLToPath(new URL('../../.cache/models/artifacts', import.meta.url));
const artifacts = new LocalArtifactStore(root);
const pulled = await pullBuiltInModels({ artifacts, tmpDir: `${root}/tmp` });
if (pulled.some((outcome) => outcome.status === 'failed')) throw new Error(JSON.stringify(pulled));
const provider = createLocalProvider({ artifacts });

function spec(name: string, options: Record<string, unknown>, parameters: Record<string, unknown> = {}): RuntimeSpec {
  const model = builtInModels.find((candidate) => candidate.name === name);
  if (model === undefined) throw new Error(name);
  return { name, kind: model.kind, providerModelId: model.providerModelId, parameters, options };
}

async function embeddingsPerSecond(runtime: ModelRuntime, callers: number): Promise<number> {
  const embeddings = runtime.embeddings;
  if (embeddings === undefined) throw new Error('no embeddings');
  let done = 0;
  let next = 0;
  // Warm-up so that the first window of ONNX Runtime's allocations is not measured.
  await Promise.all(Array.from({ length: callers }, () => embeddings.embedQuery(text(next++))));
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < deadline) {
        await embeddings.embedQuery(text(next++));
        done += 1;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

const rows: string[] = [];
// Same deployment for both modes; only batching differs.
const deployment: Record<string, number> = {
  ...(values.replicas === undefined ? {} : { replicas: Number(values.replicas) }),
  ...(values.threads === undefined ? {} : { threads: Number(values.threads) }),
};
const settings = deploymentSettings('embedding', deployment);
const oneByOne = await provider.createRuntime(
  spec('local/all-minilm-l6-v2', { ...deployment, batchWindowMs: 0, maxBatchSize: 1 }),
  { logger: silentLogger },
);
const batched = await provider.createRuntime(
  spec('local/all-minilm-l6-v2', {
    ...deployment,
    batchWindowMs: Number(values.window),
    maxBatchSize: Number(values['max-batch']),
  }),
  { logger: silentLogger },
);
const batchedEmbeddings = batched.embeddings;
if (!(batchedEmbeddings instanceof LocalEmbeddings)) throw new Error('expected LocalEmbeddings');
const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)] ?? 0;
const samples = new Map<number, { single: number[]; batch: number[]; calls: number; texts: number }>();
for (let round = 0; round < Number(values.rounds); round++) {
  for (const callers of values.callers.split(',').map(Number)) {
    const entry = samples.get(callers) ?? { single: [], batch: [], calls: 0, texts: 0 };
    samples.set(callers, entry);
    const measureSingle = async () => entry.single.push(await embeddingsPerSecond(oneByOne, callers));
    const measureBatch = async () => {
      const before = batchedEmbeddings.callStats();
      entry.batch.push(await embeddingsPerSecond(batched, callers));
      const after = batchedEmbeddings.callStats();
      entry.calls += after.calls - before.calls;
      entry.texts += after.texts - before.texts;
    };
    if (round % 2 === 0) {
      await measureSingle();
      await measureBatch();
    } else {
      await measureBatch();
      await measureSingle();
    }
    console.error(
      `round ${round}, ${callers} callers: one-by-one ${entry.single.at(-1)?.toFixed(0)}/s, batched ${entry.batch.at(-1)?.toFixed(0)}/s (load ${loadavg()[0]?.toFixed(2)})`,
    );
  }
}
for (const [callers, entry] of samples) {
  const single = median(entry.single);
  const batch = median(entry.batch);
  rows.push(
    `| ${callers} | ${single.toFixed(0)} | ${batch.toFixed(0)} | ${(batch / single).toFixed(2)}× | ${(entry.texts / Math.max(1, entry.calls)).toFixed(1)} |`,
  );
}
await Promise.all([oneByOne.dispose(), batched.dispose()]);
loads.push(loadavg()[0] ?? 0);

console.log(
  `${cpus().length} × ${cpus()[0]?.model}, Node ${process.versions.node}; ${settings.replicas} replica(s) × ${settings.threads} thread(s); texts: ${values.texts}; max batch ${values['max-batch']}, window ${values.window} ms; ${values.rounds} rounds × ${seconds} s; load average ${loads.map((load) => load.toFixed(2)).join(' → ')}`,
);
console.log('| concurrent callers | one-by-one, texts/s | dynamic batching, texts/s | gain | texts per model call |');
console.log('| -----------------: | ------------------: | ------------------------: | ---: | -------------------: |');
for (const row of rows) console.log(row);

if (values['no-llm']) process.exit(0);
const llm = await provider.createRuntime(spec('local/smollm2-135m-instruct', {}, { temperature: 0 }), {
  logger: silentLogger,
});
const chat = llm.chat;
if (chat === undefined) throw new Error('no chat');
const maxTokens = Number(values['llm-tokens']);
const prompts = [
  'Explain in a few sentences why the sky is blue.',
  'Write a short poem about the sea.',
  'List some tips for writing clear documentation.',
  'Describe how a bicycle works.',
  'What should I pack for a weekend hiking trip?',
];
const firsts: number[] = [];
const rates: number[] = [];
await chat.invoke([new HumanMessage('Hello')]); // warm-up
for (let run = 0; run < Number(values['llm-runs']); run++) {
  const started = performance.now();
  let first = 0;
  let tokens = 0;
  for await (const chunk of await chat.stream([new HumanMessage(prompts[run % prompts.length] as string)], {
    maxTokens,
  } as never)) {
    if (chunk.text !== '' && first === 0) first = performance.now() - started;
    tokens = chunk.usage_metadata?.output_tokens ?? tokens;
  }
  const total = performance.now() - started;
  firsts.push(first);
  rates.push(tokens / (total / 1000));
  console.error(`llm run ${run}: ttft ${first.toFixed(0)} ms, ${tokens} tokens in ${total.toFixed(0)} ms`);
}
await llm.dispose();

console.log(
  `LLM (${maxTokens} tokens max, temperature 0, ${firsts.length} runs): time to first token median ${median(firsts).toFixed(0)} ms, ${median(rates).toFixed(1)} tokens/s median (from request to last token)`,
);
