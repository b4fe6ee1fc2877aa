import { eventEnvelopeSchema, type PublishRecord, topicNamePattern, validationError } from '@ensemble/core';
import { type Kysely, sql } from 'kysely';
import type { DatabaseSchema } from './database-schema.ts';

/** The channel `appendToOutbox` NOTIFYs at commit, so the relay publishes without waiting for its poll. */
export const outboxChannel = 'ensemble_outbox';

/**
 * Writes events in the caller's transaction, so they exist if and only if the change they describe
 * commits; `OutboxRelay` then publishes them. Pass the transaction (`db.transaction().execute(trx => …)`).
 */
export async function appendToOutbox(trx: Kysely<DatabaseSchema>, records: readonly PublishRecord[]): Promise<void> {
  if (records.length === 0) return;
  const rows = records.map((record, i) => {
    if (!topicNamePattern.test(record.topic)) {
      throw validationError(`records[${i}].topic`, "must be 1-249 letters, digits, '.', '_' or '-'");
    }
    const parsed = eventEnvelopeSchema.safeParse(record.value);
    if (!parsed.success) {
      throw validationError(`records[${i}].value`, `not a valid event envelope: ${parsed.error.issues[0]?.message}`);
    }
    return { topic: record.topic, key: record.key, value: JSON.stringify(record.value) };
  });
  await trx.insertInto('outbox').values(rows).execute();
  await sql`select pg_notify(${outboxChannel}, '')`.execute(trx);
}
