/**
 * The embedding model's own cost per text, without the replica pool: the replica's backend
 * (tokeniser → ONNX Runtime → mean pooling) called in this thread with batches of a given size.
 * Says how much a batch saves per text at all, which bounds what dynamic batching can gain.
 *
 *   node bench/models/kernel.ts [--threads 1,2] [--batches 1,8,16,32,64] [--texts short|mixed]
 *                               [--bucketing on|off|both] [--spinning off|on|both] [--trials 7] [--per-trial 256]
 *
 * Trials of all configurations are interleaved, so a neighbour's burst hits them alike; the table has
 * the fastest trial (least disturbed) and the median, as wall and CPU milliseconds per text. CPU time
 * is this process's (all its threads), so ONNX Runtime's spinning threads count.
 */
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LocalArtifactStore } from '@ensemble/adapters/artifacts';
import { builtInModels, pullBuiltInModels } from '@ensemble/providers/local';
import { loadBackend } from '../../packages/providers/src/local/sentence-embedder.ts';
import { mixedText, sentence } from './sentences.ts';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '1,2' },
    batches: { type: 'string', default: '1,8,16,32,64' },
    texts: { type: 'string', default: 'short' },
    bucketing: { type: 'string', default: 'on' },
    spinning: { type: 'string', default: 'off' },
    trials: { type: 'string', default: '7' },
    'per-trial': { type: 'string', default: '256' },
  },
});
const list = (value: string) => value.split(',').map(Number);
const text = values.texts === 'mixed' ? mixedText : sentence;
const bucketings = values.bucketing === 'both' ? [true, false] : [values.bucketing !== 'off'];
const spinnings = values.spinning === 'both' ? [false, true] : [values.spinning === 'on'];

const root =
  process.env.ENSEMBLE_TEST_ARTIFACTS ?? fileURLToPath(new URL('../../.cache/models/artifacts', import.meta.url));
const artifacts = new LocalArtifactStore(root);
const pulled = await pullBuiltInModels({ artifacts, tmpDir: `${root}/tmp` });
if (pulled.some((outcome) => outcome.status === 'failed')) throw new Error(JSON.stringify(pulled));
const files = builtInModels.find((model) => model.name === 'local/all-minilm-l6-v2')?.files ?? [];
const pathOf = (role: string) => artifacts.path(files.find((file) => file.role === role)?.sha256 ?? '');

interface Config {
  label: string;
  batch: number;
  embed(texts: string[]): Promise<unknown>;
  wall: number[];
  cpu: number[];
}
const configs: Config[] = [];
for (const threads of list(values.threads)) {
  for (const [bucketing, spinning] of bucketings.flatMap((b) => spinnings.map((s) => [b, s] as const))) {
    if (spinning && threads === 1) continue; // one thread has no pool to spin
    const backend = await loadBackend({
      modelPath: await pathOf('weights'),
      tokenizerPath: await pathOf('tokenizer'),
      maxTokens: 256,
      pooling: 'mean',
      threads,
      spinning,
      ...(bucketing ? {} : { bucketing: false }),
    });
    const embed = backend.handlers.embed;
    if (embed === undefined) throw new Error('no embed handler');
    const context = { signal: new AbortController().signal, emit: () => {} };
    for (const batch of list(values.batches)) {
      configs.push({
        label: `${threads} thread${threads > 1 ? `s${spinning ? ', spinning' : ''}` : ''}, ${bucketing ? 'bucketed' : 'padded to longest'}`,
        batch,
        embed: (texts) => embed(texts, context),
        wall: [],
        cpu: [],
      });
    }
  }
}

const perTrial = Number(values['per-trial']);
let next = 0;
const load = [loadavg()[0]];
for (const config of configs) await config.embed(Array.from({ length: config.batch }, () => text(next++))); // warm-up
for (let trial = 0; trial < Number(values.trials); trial++) {
  for (const config of configs) {
    const calls = Math.ceil(perTrial / config.batch);
    const started = performance.now();
    const cpuStart = process.cpuUsage();
    for (let call = 0; call < calls; call++) {
      await config.embed(Array.from({ length: config.batch }, () => text(next++)));
    }
    const cpu = process.cpuUsage(cpuStart);
    config.wall.push((performance.now() - started) / (calls * config.batch));
    config.cpu.push((cpu.user + cpu.system) / 1000 / (calls * config.batch));
  }
  console.error(`trial ${trial + 1} done, load average ${loadavg()[0]?.toFixed(2)}`);
}
load.push(loadavg()[0]);

const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
const median = (values: number[]) => sorted(values)[Math.floor(values.length / 2)] ?? 0;
console.log(
  `${cpus().length} × ${cpus()[0]?.model}; texts: ${values.texts}; load average ${load.map((value) => value?.toFixed(2)).join(' → ')}`,
);
console.log('| configuration | batch | ms/text, best | ms/text, median | texts/s, best | CPU ms/text, median |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const config of configs) {
  const best = sorted(config.wall)[0] ?? 0;
  console.log(
    `| ${config.label} | ${config.batch} | ${best.toFixed(3)} | ${median(config.wall).toFixed(3)} | ${(1000 / best).toFixed(0)} | ${median(config.cpu).toFixed(3)} |`,
  );
}
