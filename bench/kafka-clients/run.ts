/**
 * Kafka client benchmark: kafkajs 2.2.4 versus @platformatic/kafka 2.12.1, same broker, same process.
 *
 *   bash scripts/kafka.sh start
 *   node bench/kafka-clients/run.ts [--messages 50000] [--batch 500] [--rounds 3] [--samples 1000]
 *
 * Per round and client (the order alternates between rounds): produce N small JSON envelopes in
 * batches with an idempotent producer and acks=all; consume them in a new consumer group; then send single messages one at a time
 * to a 1-partition topic that a joined group consumes and time produce→consume. Throughputs are the
 * median of the rounds; latency percentiles pool every sample. CPU is this process's user+system time.
 */
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { Admin } from '@platformatic/kafka';
import type { BenchClient } from './bench-client.ts';
import { kafkajsClient } from './kafkajs-client.ts';
import { platformaticClient } from './platformatic-client.ts';

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '50000' },
    batch: { type: 'string', default: '500' },
    rounds: { type: 'string', default: '3' },
    samples: { type: 'string', default: '1000' },
    brokers: { type: 'string' },
  },
});
const total = Number(args.messages);
const batchSize = Number(args.batch);
const rounds = Number(args.rounds);
const samples = Number(args.samples);
const brokers = (args.brokers ?? startBroker()).split(',');
const runId = Date.now().toString(36);
const createdTopics: string[] = [];

interface RoundResult {
  produceRate: number;
  produceCpuUs: number;
  consumeRate: number;
  consumeWithJoinS: number;
  consumeCpuUs: number;
  ackMs: number[];
  endToEndMs: number[];
}

function startBroker(): string {
  const out = execFileSync('bash', ['scripts/kafka.sh', 'start'], { encoding: 'utf8' }).trim().split('\n');
  return out[out.length - 1] ?? '';
}

function envelope(seq: number): string {
  const id = `${runId}-${seq}`;
  return JSON.stringify({
    id,
    type: 'bench/message.sent',
    ts: new Date().toISOString(),
    projectId: 'bench',
    traceId: id,
    data: { seq, payload: 'x'.repeat(64) },
  });
}

function cpuMicros(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

function until(description: string, check: () => boolean, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${description}`));
      else setTimeout(tick, 1);
    };
    tick();
  });
}

async function createTopic(admin: Admin, name: string, partitions: number): Promise<string> {
  await admin.createTopics({ topics: [name], partitions, replicas: 1 });
  // A new partition's leader takes a moment to be ready; the first send should not pay for that.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  return name;
}

async function runRound(client: BenchClient, admin: Admin, round: number): Promise<RoundResult> {
  const tag = `${client.name.replace(/[^a-z]/g, '')}-${runId}-${round}`;
  const topic = await createTopic(admin, `bench.throughput.${tag}`, 3);
  const messages = Array.from({ length: total }, (_, i) => ({ key: `k${i % 100}`, value: envelope(i) }));

  // Produce: sequential batches, each acknowledged by all in-sync replicas.
  let cpu = process.cpuUsage();
  let started = performance.now();
  for (let i = 0; i < total; i += batchSize) await client.produce(topic, messages.slice(i, i + batchSize));
  const produceSeconds = (performance.now() - started) / 1000;
  const produceCpuUs = cpuMicros(cpu) / total;

  // Consume: a new group reads everything from the earliest offset.
  let received = 0;
  let first = 0;
  let last = 0;
  cpu = process.cpuUsage();
  started = performance.now();
  const consumer = await client.consume(`bench-${tag}`, topic, () => {
    if (received === 0) first = performance.now();
    received++;
    if (received === total) last = performance.now();
  });
  await until(`${total} records`, () => received >= total);
  const consumeCpuUs = cpuMicros(cpu) / total;
  await consumer.close();

  // Latency: one message at a time through a 1-partition topic to a group that has already joined.
  const latencyTopic = await createTopic(admin, `bench.latency.${tag}`, 1);
  const arrivals = new Map<string, number>();
  const latencyConsumer = await client.consume(`bench-lat-${tag}`, latencyTopic, (key) => {
    arrivals.set(key, performance.now());
  });
  for (let i = 0; !arrivals.has(`warm-${i - 1}`) || i === 0; i++) {
    await client.produce(latencyTopic, [{ key: `warm-${i}`, value: envelope(-1) }]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (i > 600) throw new Error('the latency consumer never received a warm-up message');
  }
  const ackMs: number[] = [];
  const endToEndMs: number[] = [];
  for (let i = 0; i < samples; i++) {
    const key = `lat-${i}`;
    const sent = performance.now();
    await client.produce(latencyTopic, [{ key, value: envelope(i) }]);
    ackMs.push(performance.now() - sent);
    await until(`latency sample ${i}`, () => arrivals.has(key), 30_000);
    endToEndMs.push((arrivals.get(key) ?? 0) - sent);
  }
  await latencyConsumer.close();
  // Deleted only at the end: kafkajs keeps refreshing metadata of every topic it has produced to and
  // fails every later send once one of them is gone.
  createdTopics.push(topic, latencyTopic);

  return {
    produceRate: total / produceSeconds,
    produceCpuUs,
    consumeRate: total / ((last - first) / 1000),
    consumeWithJoinS: (last - started) / 1000,
    consumeCpuUs,
    ackMs,
    endToEndMs,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

async function main() {
  const admin = new Admin({ clientId: 'bench-admin', bootstrapBrokers: brokers });
  const clients = [platformaticClient(brokers), kafkajsClient(brokers)];
  const results = new Map<string, RoundResult[]>(clients.map((c) => [c.name, []]));
  console.error(`brokers ${brokers.join(',')}; ${total} messages, batches of ${batchSize}, ${rounds} rounds`);
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? clients : [...clients].reverse();
    for (const client of order) {
      const result = await runRound(client, admin, round);
      results.get(client.name)?.push(result);
      console.error(
        `round ${round + 1} ${client.name}: produce ${Math.round(result.produceRate)}/s, ` +
          `consume ${Math.round(result.consumeRate)}/s, e2e p50 ${percentile(result.endToEndMs, 50).toFixed(2)} ms`,
      );
    }
  }
  for (const client of clients) await client.close();
  await admin.deleteTopics({ topics: createdTopics });
  await admin.close();

  const rows: [string, (r: RoundResult[]) => number, number][] = [
    ['produce, msgs/s (batches, acks=all)', (r) => median(r.map((x) => x.produceRate)), 0],
    ['produce CPU, µs/msg', (r) => median(r.map((x) => x.produceCpuUs)), 1],
    ['consume, msgs/s (first→last record)', (r) => median(r.map((x) => x.consumeRate)), 0],
    ['consume incl. group join, s', (r) => median(r.map((x) => x.consumeWithJoinS)), 2],
    ['consume CPU, µs/msg', (r) => median(r.map((x) => x.consumeCpuUs)), 1],
    [
      'single-message produce ack p50, ms',
      (r) =>
        percentile(
          r.flatMap((x) => x.ackMs),
          50,
        ),
      2,
    ],
    [
      'single-message produce ack p99, ms',
      (r) =>
        percentile(
          r.flatMap((x) => x.ackMs),
          99,
        ),
      2,
    ],
    [
      'produce→consume p50, ms',
      (r) =>
        percentile(
          r.flatMap((x) => x.endToEndMs),
          50,
        ),
      2,
    ],
    [
      'produce→consume p99, ms',
      (r) =>
        percentile(
          r.flatMap((x) => x.endToEndMs),
          99,
        ),
      2,
    ],
  ];
  const [a, b] = clients as [BenchClient, BenchClient];
  console.log(`| metric | ${a.name} | ${b.name} | ratio ${a.name} / ${b.name} |`);
  console.log('|---|---:|---:|---:|');
  for (const [label, measure, digits] of rows) {
    const x = measure(results.get(a.name) ?? []);
    const y = measure(results.get(b.name) ?? []);
    console.log(`| ${label} | ${x.toFixed(digits)} | ${y.toFixed(digits)} | ${(x / y).toFixed(2)} |`);
  }
  console.log(
    `\nNode ${process.version}, ${total} messages of ${Buffer.byteLength(envelope(0))} bytes, ` +
      `${rounds} rounds (median), ${samples * rounds} latency samples per client`,
  );
}

await main();
