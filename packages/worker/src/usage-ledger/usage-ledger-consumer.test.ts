import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { EmbeddedEventBus } from '@ensemble/adapters/embedded';
import { createDatabase, type Database, PostgresUsageLedger, runMigrations } from '@ensemble/adapters/postgres';
import {
  createEvent,
  type DeadLetter,
  type EventBus,
  type PublishRecord,
  silentLogger,
  type UsageEvent,
  usageRecordedEventType,
} from '@ensemble/core';
import { createTestDatabase, type TestDatabase, uniqueName, waitFor } from '@ensemble/testkit';
import { sql } from 'kysely';
import { type RunningWorker, startWorker } from '../worker.ts';
import { usageLedgerConsumer } from './usage-ledger-consumer.ts';
import { UsageLedgerMaintenance } from './usage-ledger-maintenance.ts';

function usageEvent(overrides: Partial<UsageEvent> = {}): UsageEvent {
  return {
    requestId: randomUUID(),
    ts: new Date().toISOString(),
    projectId: 'default',
    keyId: null,
    endpoint: 'embeddings',
    requested: 'embed',
    route: null,
    target: 'embed@1',
    provider: 'local',
    inputTokens: 4,
    outputTokens: 0,
    costUsd: null,
    latencyMs: 1.5,
    timeToFirstTokenMs: null,
    stream: false,
    status: 200,
    errorCode: null,
    cacheHit: false,
    attempts: 1,
    ...overrides,
  };
}

describe('the usage ledger consumer', { timeout: 120_000 }, () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let bus: EventBus;
  let ledger: PostgresUsageLedger;
  let worker: RunningWorker | undefined;

  before(async () => {
    testDatabase = await createTestDatabase('usage_consumer');
    database = createDatabase({ url: testDatabase.url });
    await runMigrations(database);
    bus = new EmbeddedEventBus({ database, pollIntervalMs: 200 });
    ledger = new PostgresUsageLedger(database.db);
  });
  after(async () => {
    await worker?.stop();
    await bus.close();
    await database.close();
    await testDatabase.drop();
  });

  const rowCount = async (projectId: string) => {
    const { rows } = await sql<{ count: string }>`
      select count(*) as count from usage_records where project_id = ${projectId}`.execute(database.db);
    return Number(rows[0]?.count);
  };

  it('writes each valid record once, however often it is delivered, and dead-letters the ones it refuses', async () => {
    const topic = uniqueName('usage').replaceAll('_', '.');
    const deadLetterTopic = `${topic}.dlq`;
    await bus.ensureTopics([
      { name: topic, partitions: 3 },
      { name: deadLetterTopic, partitions: 1 },
    ]);
    const projectId = 'p-consumer';
    const valid: PublishRecord[] = Array.from({ length: 1_200 }, (_, i) => ({
      topic,
      key: projectId,
      value: createEvent({
        type: usageRecordedEventType,
        projectId,
        data: usageEvent({ projectId, inputTokens: i }),
      }),
    }));
    const refusedData = createEvent({
      type: usageRecordedEventType,
      projectId,
      data: { ...usageEvent({ projectId }), status: 42 },
    });
    const wrongType = createEvent({ type: 'usage/call.guessed', projectId, data: usageEvent({ projectId }) });
    const tooBig = createEvent({
      type: usageRecordedEventType,
      projectId,
      data: usageEvent({ projectId, attempts: 2 ** 31 }),
    });
    // Every valid record twice (a producer that retried), the refused ones among them.
    await bus.publish(valid.slice(0, 600));
    await bus.publish([refusedData, wrongType, tooBig].map((value) => ({ topic, key: projectId, value })));
    await bus.publish(valid.slice(600));
    await bus.publish(valid);

    worker = await startWorker({
      bus,
      logger: silentLogger,
      consumers: [usageLedgerConsumer({ bus, ledger, logger: silentLogger, topic, deadLetterTopic })],
    });
    const letters: DeadLetter[] = [];
    const dlq = await bus.subscribe({
      groupId: uniqueName('dlq'),
      topics: [deadLetterTopic],
      handler: async (message) => {
        letters.push(message.value.data as DeadLetter);
      },
    });
    await waitFor(
      '1,200 rows and 3 dead letters',
      async () => (await rowCount(projectId)) === 1_200 && letters.length === 3,
      {
        timeoutMs: 60_000,
      },
    );
    await dlq.close();
    // Let a wrongful extra write show up before judging.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(await rowCount(projectId), 1_200);
    const { rows } = await sql<{ total: string }>`
      select sum(input_tokens) as total from usage_records where project_id = ${projectId}`.execute(database.db);
    assert.equal(Number(rows[0]?.total), (1_199 * 1_200) / 2, 'each record once, with its own values');
    assert.deepEqual(letters.map((letter) => letter.reason).sort(), ['invalid_data', 'invalid_data', 'invalid_data']);
    const errors = letters.map((letter) => letter.error).sort();
    assert.match(errors.join('\n'), /data\.attempts: more than/);
    assert.match(errors.join('\n'), /data\.status/);
    assert.match(errors.join('\n'), /type: expected usage\/call\.recorded/);
    assert.deepEqual(
      letters.map((letter) => (letter.original as { id: string }).id).sort(),
      [refusedData.id, wrongType.id, tooBig.id].sort(),
    );
  });

  it('maintains the partitions on start, and stops cleanly', async () => {
    const logger = silentLogger;
    const maintenance = new UsageLedgerMaintenance({ ledger, retentionDays: 30, logger });
    maintenance.start();
    await maintenance.round;
    await maintenance.stop();
    const days = await ledger.partitionDays();
    const today = new Date().toISOString().slice(0, 10);
    assert.ok(days.includes(today), `partitions: ${days.join(', ')}`);
    assert.equal(days.length >= 5, true, 'yesterday, today and three days ahead');
  });
});
