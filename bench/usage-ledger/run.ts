/**
 * The usage ledger's costs (issue 4, item 5), in one run:
 *
 * 1. `record()` on the request path: nanoseconds per call of `BufferedUsageRecorder.record`, in rounds
 *    of 200 calls with a millisecond in between (so batches are published as in production), and
 *    with the bus down and the buffer full (the drop path).
 * 2. Writing: `PostgresUsageLedger.append` alone (batches of 500), and the ledger consumer draining a
 *    backlog from the embedded bus and from Kafka (rows per second until every row is in).
 *
 *   . scripts/node24.sh
 *   node bench/usage-ledger/run.ts [--events 100000] [--kafka 127.0.0.1:9092]
 *
 * PostgreSQL: DATABASE_URL's server, else a private one started under .cache/bench-postgres. Kafka:
 * --kafka or KAFKA_BROKERS; without either the Kafka row is skipped.
 */
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { EmbeddedEventBus } from '@ensemble/adapters/embedded';
import { KafkaEventBus } from '@ensemble/adapters/kafka';
import {
  createDatabase,
  type Database,
  EmbeddedPostgresServer,
  PostgresUsageLedger,
  runMigrations,
} from '@ensemble/adapters/postgres';
import {
  createEvent,
  type EventBus,
  type PublishRecord,
  silentLogger,
  type UsageEvent,
  usageRecordedEventType,
} from '@ensemble/core';
import { BufferedUsageRecorder } from '@ensemble/server';
import { startWorker, usageLedgerConsumer } from '@ensemble/worker';
import { sql } from 'kysely';
import pg from 'pg';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    kafka: { type: 'string' },
    'skip-record': { type: 'boolean', default: false },
  },
});
const events = Number(values.events);
const kafkaBrokers = values.kafka ?? process.env.KAFKA_BROKERS;
const root = join(import.meta.dirname, '../..');

function usageEvent(i: number): UsageEvent {
  return {
    requestId: randomUUID(),
    ts: new Date().toISOString(),
    projectId: `p${i % 4}`,
    keyId: 'key_AAAAAAAAAAAAAAAA',
    endpoint: 'chat',
    requested: 'bench-model',
    route: null,
    target: 'bench-model@1',
    provider: 'openai-compatible',
    inputTokens: 23,
    outputTokens: 9,
    costUsd: 0.000_008_85,
    latencyMs: 1.234,
    timeToFirstTokenMs: null,
    stream: false,
    status: 200,
    errorCode: null,
    cacheHit: false,
    attempts: 1,
  };
}

/** A millisecond between rounds: 200 records a round is 200,000 a second, far above a gateway's rate. */
const pause = () => new Promise((resolve) => setTimeout(resolve, 1));

/** ns per `record()` call, over `rounds` calls of `perRound` records with the loop let run between them. */
async function recordCost(bus: Pick<EventBus, 'publish'>, rounds: number, perRound: number) {
  const recorder = new BufferedUsageRecorder({ bus, maxBuffered: 10_000 });
  const sample = Array.from({ length: perRound }, (_, i) => usageEvent(i));
  const perCall: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const started = process.hrtime.bigint();
    for (const event of sample) recorder.record(event);
    perCall.push(Number(process.hrtime.bigint() - started) / perRound);
    await pause();
  }
  await recorder.close(1_000);
  perCall.sort((a, b) => a - b);
  const at = (q: number) => perCall[Math.min(perCall.length - 1, Math.floor(q * perCall.length))] as number;
  return { p50: at(0.5), p99: at(0.99), stats: recorder.stats() };
}

async function countRows(database: Database): Promise<number> {
  const { rows } = await sql<{ count: string }>`select count(*) as count from usage_records`.execute(database.db);
  return Number(rows[0]?.count);
}

/** Publishes `events` usage records, then times the ledger consumer draining them into PostgreSQL. */
async function consumerThroughput(bus: EventBus, database: Database, label: string) {
  const topic = `bench.usage.${randomUUID().slice(0, 8)}`;
  await bus.ensureTopics([
    { name: topic, partitions: 6 },
    { name: `${topic}.dlq`, partitions: 1 },
  ]);
  const publishCpu = process.cpuUsage();
  for (let i = 0; i < events; i += 500) {
    const batch: PublishRecord[] = [];
    for (let j = i; j < Math.min(events, i + 500); j++) {
      const data = usageEvent(j);
      batch.push({
        topic,
        key: data.projectId,
        value: createEvent({ type: usageRecordedEventType, projectId: data.projectId, data }),
      });
    }
    await bus.publish(batch);
  }
  const published = process.cpuUsage(publishCpu);
  await sql`truncate usage_records`.execute(database.db);
  const ledger = new PostgresUsageLedger(database.db);
  const started = performance.now();
  const consumeCpu = process.cpuUsage();
  const worker = await startWorker({
    bus,
    logger: silentLogger,
    consumers: [
      usageLedgerConsumer({
        bus,
        ledger,
        logger: silentLogger,
        topic,
        deadLetterTopic: `${topic}.dlq`,
        groupId: `bench-${randomUUID()}`,
      }),
    ],
  });
  while ((await countRows(database)) < events) await new Promise((resolve) => setTimeout(resolve, 50));
  const seconds = (performance.now() - started) / 1_000;
  const consumed = process.cpuUsage(consumeCpu);
  await worker.stop();
  // CPU of this Node process only (PostgreSQL and Kafka run in their own): what the ledger adds to Ensemble's.
  const perEvent = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / events;
  return {
    label,
    rowsPerSecond: Math.round(events / seconds),
    seconds,
    publishCpuUs: perEvent(published),
    consumeCpuUs: perEvent(consumed),
  };
}

async function appendThroughput(database: Database) {
  await sql`truncate usage_records`.execute(database.db);
  const ledger = new PostgresUsageLedger(database.db);
  const started = performance.now();
  for (let i = 0; i < events; i += 500) {
    await ledger.append(
      Array.from({ length: Math.min(500, events - i) }, (_, j) => ({ ...usageEvent(i + j), eventId: randomUUID() })),
    );
  }
  const seconds = (performance.now() - started) / 1_000;
  return { rowsPerSecond: Math.round(events / seconds), seconds };
}

async function openDatabase(): Promise<{ database: Database; stop: () => Promise<void> }> {
  let serverUrl = process.env.DATABASE_URL;
  let stopServer = async () => {};
  if (serverUrl === undefined) {
    const server = new EmbeddedPostgresServer({ dataDir: join(root, '.cache/bench-postgres'), port: 0 });
    serverUrl = (await server.start()).url;
    stopServer = () => server.stop();
  }
  const name = `bench_ledger_${Date.now()}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const database = createDatabase({ url: url.toString(), poolSize: 8 });
  await runMigrations(database);
  return {
    database,
    stop: async () => {
      await database.close();
      await admin.query(`drop database "${name}" with (force)`);
      await admin.end();
      await stopServer();
    },
  };
}

const up = { publish: async () => {} };
const down = {
  publish: async () => {
    throw new Error('down');
  },
};
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model}, node ${process.version}`);
if (!values['skip-record']) {
  // Warm up the JIT, then measure.
  await recordCost(up, 200, 200);
  const steady = await recordCost(up, 5_000, 200);
  console.log(
    `record(), bus up:   p50 ${steady.p50.toFixed(0)} ns, p99 ${steady.p99.toFixed(0)} ns per call (${steady.stats.published} published, ${steady.stats.dropped} dropped)`,
  );
  const dropping = await recordCost(down, 1_000, 200);
  console.log(
    `record(), bus down: p50 ${dropping.p50.toFixed(0)} ns, p99 ${dropping.p99.toFixed(0)} ns per call (${dropping.stats.dropped} dropped once 10,000 were held)`,
  );
}

const { database, stop } = await openDatabase();
try {
  const direct = await appendThroughput(database);
  console.log(
    `append (500 rows a statement): ${direct.rowsPerSecond} rows/s (${events} rows in ${direct.seconds.toFixed(1)} s)`,
  );
  const embedded = new EmbeddedEventBus({ database, retention: false });
  const viaEmbedded = await consumerThroughput(embedded, database, 'embedded bus');
  await embedded.close();
  console.log(
    `consumer, ${viaEmbedded.label}: ${viaEmbedded.rowsPerSecond} rows/s (${events} rows in ${viaEmbedded.seconds.toFixed(1)} s; Node CPU per event: publish ${viaEmbedded.publishCpuUs.toFixed(1)} µs, consume ${viaEmbedded.consumeCpuUs.toFixed(1)} µs)`,
  );
  if (kafkaBrokers !== undefined) {
    const kafka = new KafkaEventBus({
      brokers: kafkaBrokers.split(','),
      clientId: 'bench-ledger',
      replicationFactor: 1,
      connectTimeoutMs: 5_000,
      logger: silentLogger,
    });
    const viaKafka = await consumerThroughput(kafka, database, 'Kafka');
    await kafka.close();
    console.log(
      `consumer, ${viaKafka.label}: ${viaKafka.rowsPerSecond} rows/s (${events} rows in ${viaKafka.seconds.toFixed(1)} s; Node CPU per event: publish ${viaKafka.publishCpuUs.toFixed(1)} µs, consume ${viaKafka.consumeCpuUs.toFixed(1)} µs)`,
    );
  }
} finally {
  await stop();
}
