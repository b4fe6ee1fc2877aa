/**
 * bench/jobs: the jobs system end to end — a 10,000-item batch against the fast fake OpenAI upstream
 * (bench/gateway) and a 1,000-text embed job on the built-in local embedding model, with 1 and 2
 * `ensemble worker` processes on Kafka — and the broker's own ceiling from Kafka's producer benchmark
 * (kafka-producer-perf-test, org.apache.kafka.tools.ProducerPerformance) in the same run.
 *
 *   node bench/jobs/run.ts [--items 10000] [--embed-items 1000] [--workers 1,2] [--brokers host:port]
 *
 * Starts its own PostgreSQL (a temporary embedded server) and, without --brokers (or
 * ENSEMBLE_TEST_KAFKA_BROKERS), its own broker; each round uses Kafka names of its own
 * (KAFKA_NAME_PREFIX). Writes bench/results/jobs-<time>.{json,md}.
 */
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { KafkaEventBus } from '@ensemble/adapters/kafka';
import { EmbeddedPostgresServer } from '@ensemble/adapters/postgres';
import { silentLogger } from '@ensemble/core';
import { startOwnKafkaBroker } from '@ensemble/testkit';
import pg from 'pg';
import { linkBuiltInArtifacts } from '../../packages/cli/src/testing/built-in-artifacts.ts';
import { type EnsembleProcess, spawnEnsemble } from '../../packages/cli/src/testing/ensemble-process.ts';
import { startFakeOpenAiUpstream } from '../gateway/fake-openai-upstream.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const { values } = parseArgs({
  options: {
    items: { type: 'string', default: '10000' },
    'embed-items': { type: 'string', default: '1000' },
    workers: { type: 'string', default: '1,2' },
    brokers: { type: 'string' },
  },
});
const items = Number(values.items);
const embedItems = Number(values['embed-items']);
const workerCounts = (values.workers as string).split(',').map(Number);
const log = (message: string) => process.stderr.write(`[bench/jobs] ${message}\n`);

interface RunFigures {
  workers: number;
  job: string;
  items: number;
  submitMs: number;
  submitToDoneMs: number;
  itemsPerSecond: number;
  /** CPU of the worker processes (all of them) per item: the job system plus the model call's client side. */
  workerCpuMsPerItem: number;
  apiCpuMsPerItem: number;
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

/** utime + stime of a process, in ms (Linux /proc, clock ticks of 10 ms). */
async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'ensemble-bench-jobs-'));
  await chmod(work, 0o755);
  const postgres = new EmbeddedPostgresServer({ dataDir: join(work, 'pg'), port: 0 });
  const { url: adminUrl } = await postgres.start();
  const ownBroker =
    (values.brokers ?? process.env.ENSEMBLE_TEST_KAFKA_BROKERS) ? undefined : await startOwnKafkaBroker();
  const brokers = values.brokers ?? process.env.ENSEMBLE_TEST_KAFKA_BROKERS ?? (ownBroker?.address as string);
  const upstream = await startFakeOpenAiUpstream();
  const home = join(work, 'home');
  await mkdir(join(home, 'artifacts'), { recursive: true });
  await linkBuiltInArtifacts(join(home, 'artifacts'));
  const runs: RunFigures[] = [];
  const started = new Date();
  try {
    for (const workers of workerCounts) {
      const database = `bench_jobs_${workers}_${Date.now()}`;
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      await admin.query(`create database ${database}`);
      await admin.end();
      const url = new URL(adminUrl);
      url.pathname = `/${database}`;
      const env = {
        DATABASE_URL: url.toString(),
        KAFKA_BROKERS: brokers,
        KAFKA_NAME_PREFIX: `bench-${Date.now().toString(36)}.`,
        KAFKA_TOPIC_PARTITIONS: '6',
        ENSEMBLE_HOME: home,
        ENSEMBLE_MASTER_KEY: 'B'.repeat(43).concat('='),
        ENSEMBLE_BUILT_IN_MODELS: 'register',
        LOG_LEVEL: 'warn',
        JOBS_ITEM_CONCURRENCY: '128',
        JOBS_TASK_BATCH_SIZE: '200',
        USAGE_LEDGER: 'false',
      };
      log(`${workers} worker(s): starting`);
      const api = await spawnEnsemble(['start', '--no-worker'], { ...env, LOG_LEVEL: 'info' });
      const processes: EnsembleProcess[] = [];
      try {
        for (let i = 0; i < workers; i++) {
          const worker = await spawnEnsemble(['worker'], { ...env, LOG_LEVEL: 'info' }, { waitForListening: false });
          processes.push(worker);
          while (!/ensemble worker running/.test(worker.output())) {
            if (worker.child.exitCode !== null) throw new Error(`a worker stopped:\n${worker.output()}`);
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
        const call = async (method: string, path: string, body?: unknown) => {
          const response = await fetch(`${api.url}${path}`, {
            method,
            headers: { ...api.auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          });
          const json = (await response.json()) as Record<string, unknown>;
          if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
          return json;
        };
        await call('POST', '/api/models', {
          name: 'bench-chat',
          kind: 'chat',
          provider: 'openai-compatible',
          providerModelId: 'gpt-4o-mini',
          baseUrl: `${upstream.url}/v1`,
        });
        const runJob = async (label: string, body: Record<string, unknown>, count: number, record: boolean) => {
          const pids = processes.map((p) => p.child.pid as number);
          const before = await Promise.all(pids.map(cpuMs));
          const apiBefore = await cpuMs(api.child.pid as number);
          const t0 = performance.now();
          const job = (await call('POST', '/api/jobs', body)) as { id: string };
          const submitMs = performance.now() - t0;
          for (;;) {
            const current = (await call('GET', `/api/jobs/${job.id}`)) as {
              status: string;
              counts: { succeeded: number; failed: number };
            };
            if (['completed', 'completed_with_errors', 'cancelled'].includes(current.status)) {
              if (current.counts.succeeded !== count) throw new Error(`${label}: ${JSON.stringify(current)}`);
              break;
            }
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          const submitToDoneMs = performance.now() - t0;
          const after = await Promise.all(pids.map(cpuMs));
          const apiAfter = await cpuMs(api.child.pid as number);
          const figures: RunFigures = {
            workers,
            job: label,
            items: count,
            submitMs: Math.round(submitMs),
            submitToDoneMs: Math.round(submitToDoneMs),
            itemsPerSecond: Math.round((count * 1000) / submitToDoneMs),
            workerCpuMsPerItem: Number(((sum(after) - sum(before)) / count).toFixed(3)),
            apiCpuMsPerItem: Number(((apiAfter - apiBefore) / count).toFixed(3)),
          };
          if (record) runs.push(figures);
          log(`${workers} worker(s) ${label}: ${JSON.stringify(figures)}`);
        };
        const chat = (n: number, tag: string) => ({
          type: 'batch-inference',
          model: 'bench-chat',
          inputs: Array.from({ length: n }, (_, i) => ({
            messages: [{ role: 'user', content: `${tag} request ${i}: classify this ticket` }],
          })),
        });
        const embed = (n: number, tag: string) => ({
          type: 'embed',
          model: 'local/all-minilm-l6-v2',
          inputs: Array.from(
            { length: n },
            (_, i) => `${tag} document ${i}: the quick brown fox jumps over the lazy dog`,
          ),
        });
        // Warm-ups: connections, JIT, the local model loaded in every worker.
        await runJob('warm-up chat', chat(500, 'warm'), 500, false);
        await runJob('warm-up embed', embed(50 * workers, 'warm'), 50 * workers, false);
        await runJob(`chat ${items}`, chat(items, 'run'), items, true);
        await runJob(`embed ${embedItems}`, embed(embedItems, 'run'), embedItems, true);
      } finally {
        for (const worker of processes) await worker.stop();
        await api.stop();
      }
    }
    const ceiling = await producerCeiling(brokers);
    const result = {
      started: started.toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg: loadavg() },
      settings: { partitions: 6, itemConcurrency: 128, taskBatchSize: 200, brokers: ownBroker ? 'own' : 'shared' },
      runs,
      kafkaProducerCeiling: ceiling,
    };
    const stamp = started.toISOString().slice(0, 16).replace(':', '');
    await mkdir(join(root, 'bench/results'), { recursive: true });
    await writeFile(join(root, `bench/results/jobs-${stamp}.json`), `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await upstream.close();
    await ownBroker?.dispose();
    await postgres.stop();
    await rm(work, { recursive: true, force: true });
  }
}

/** Kafka's own producer benchmark against the same broker: 200,000 records of 150 bytes (a task's size), acks=all. */
async function producerCeiling(
  brokers: string,
): Promise<{ recordsPerSecond: number; line: string } | { error: string }> {
  const lib = join(root, '.cache/kafka-tools');
  try {
    execFileSync(
      'mvn',
      [
        '-q',
        '-B',
        '-f',
        join(root, 'bench/jobs/kafka-tools/pom.xml'),
        'dependency:copy-dependencies',
        `-DoutputDirectory=${lib}`,
      ],
      {
        stdio: 'ignore',
        timeout: 600_000,
      },
    );
    const topic = `bench-perf-${Date.now().toString(36)}`;
    const bus = new KafkaEventBus({
      brokers: brokers.split(','),
      clientId: 'bench',
      replicationFactor: 1,
      connectTimeoutMs: 5_000,
      logger: silentLogger,
    });
    await bus.ensureTopics([{ name: topic, partitions: 6 }]);
    await bus.close();
    const output = execFileSync(
      'java',
      [
        '-Xmx512m',
        '-cp',
        `${lib}/*`,
        'org.apache.kafka.tools.ProducerPerformance',
        '--topic',
        topic,
        '--num-records',
        '200000',
        '--record-size',
        '150',
        '--throughput',
        '-1',
        '--producer-props',
        `bootstrap.servers=${brokers}`,
        'acks=all',
      ],
      { encoding: 'utf8', timeout: 300_000 },
    );
    const line = output.trim().split('\n').at(-1) as string;
    return { recordsPerSecond: Number(/([\d.]+) records\/sec/.exec(line)?.[1] ?? 0), line };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

await main();
