import {
  type BusMessage,
  type DeadLetter,
  deadLetterRecord,
  type EventBus,
  type Logger,
  type RecordedUsage,
  topics,
  type UsageLedgerWriter,
  usageEventSchema,
  usageRecordedEventType,
} from '@ensemble/core';
import type { ConsumerDefinition } from '../worker.ts';

export const usageLedgerGroupId = 'ensemble.usage-ledger';

export interface UsageLedgerConsumerOptions {
  /** Where refused records are dead-lettered (`ensemble.usage.dlq`). */
  bus: Pick<EventBus, 'publish'>;
  ledger: UsageLedgerWriter;
  logger: Logger;
  groupId?: string;
  topic?: string;
  deadLetterTopic?: string;
  /** Rows written in one statement. Default 500. */
  maxRecords?: number;
  /** Partitions written at once. Default 2. */
  concurrency?: number;
}

/** The largest value of a PostgreSQL `integer` column. */
const maxInteger = 2 ** 31 - 1;

/**
 * The usage ledger's consumer: takes `ensemble.usage` in batches, checks each record against the
 * usage event schema (and what the table can hold), writes the good ones in one statement and
 * dead-letters the others with reason `invalid_data`. Writing is idempotent, so a batch retried after
 * a database outage, or redelivered after a crash, adds nothing twice. A failing write is retried
 * forever with backoff: the records wait in the bus, never lost.
 */
export function usageLedgerConsumer(options: UsageLedgerConsumerOptions): ConsumerDefinition {
  const deadLetterTopic = options.deadLetterTopic ?? topics.usageDlq;
  const logger = options.logger.child({ component: 'usage-ledger' });
  return {
    name: 'usage-ledger',
    groupId: options.groupId ?? usageLedgerGroupId,
    topics: [options.topic ?? topics.usage],
    deadLetterTopic,
    concurrency: options.concurrency ?? 2,
    retry: { initialDelayMs: 200, maxDelayMs: 30_000 },
    batch: {
      maxRecords: options.maxRecords ?? 500,
      handler: async (messages) => {
        const rows: RecordedUsage[] = [];
        const refused: DeadLetter[] = [];
        for (const message of messages) {
          const problem = readUsage(message, rows);
          if (problem !== undefined) refused.push(deadLetterOf(message, problem));
        }
        // Written before the dead letters go out: a retry after a failed publish writes nothing twice.
        if (rows.length > 0) await options.ledger.append(rows);
        if (refused.length > 0) {
          await options.bus.publish(refused.map((letter) => deadLetterRecord(deadLetterTopic, letter)));
          logger.warn(
            { count: refused.length, first: refused[0]?.error, deadLetterTopic },
            'usage records refused and dead-lettered',
          );
        }
      },
    },
  };
}

/** Adds the message's usage to `rows`, or says why it cannot be stored. */
function readUsage(message: BusMessage, rows: RecordedUsage[]): string | undefined {
  if (message.value.type !== usageRecordedEventType) {
    return `type: expected ${usageRecordedEventType}, got ${message.value.type}`;
  }
  const parsed = usageEventSchema.safeParse(message.value.data);
  if (!parsed.success) {
    return parsed.error.issues.map((issue) => `data.${issue.path.join('.')}: ${issue.message}`).join('; ');
  }
  const usage = parsed.data;
  // What the schema allows but the table cannot hold would fail the whole batch forever.
  for (const field of ['inputTokens', 'outputTokens', 'attempts'] as const) {
    if (usage[field] > maxInteger) return `data.${field}: more than ${maxInteger}`;
  }
  if (usage.costUsd !== null && usage.costUsd >= 1e8) return 'data.costUsd: 100,000,000 USD or more';
  rows.push({ ...usage, eventId: message.value.id });
  return undefined;
}

function deadLetterOf(message: BusMessage, error: string): DeadLetter {
  const { topic, partition, offset, key, attempt } = message;
  return { topic, partition, offset, key, reason: 'invalid_data', error, attempts: attempt, original: message.value };
}
