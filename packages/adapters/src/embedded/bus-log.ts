import { type Kysely, sql } from 'kysely';
import type { DatabaseSchema } from '../postgres/database-schema.ts';
import { partitionForKey } from './partition-for-key.ts';

/** The channel publishers NOTIFY (payload: the topic) so idle consumers wake at once. */
export const busChannel = 'ensemble_bus';

type Db = Kysely<DatabaseSchema>;

export interface StoredRecord {
  offset: bigint;
  key: string;
  /** The JSON text as published. */
  value: string;
}

export interface RecordToAppend {
  topic: string;
  key: string;
  value: string;
}

/** Creates missing topics and their partitions; existing topics keep their partition count. */
export async function createTopics(db: Db, topics: ReadonlyArray<{ name: string; partitions: number }>): Promise<void> {
  if (topics.length === 0) return;
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('bus_topics')
      .values(topics.map((topic) => ({ name: topic.name, partitions: topic.partitions })))
      .onConflict((conflict) => conflict.column('name').doNothing())
      .execute();
    // Partitions of the stored count, whether this call or an earlier one created the topic.
    await sql`
      insert into bus_partitions (topic, partition)
      select t.name, p from bus_topics t, generate_series(0, t.partitions - 1) p
      where t.name in (${sql.join(topics.map((topic) => topic.name))})
      on conflict do nothing`.execute(trx);
  });
}

/** Partition counts of the named topics that exist. */
export async function partitionCounts(db: Db, names: readonly string[]): Promise<Map<string, number>> {
  if (names.length === 0) return new Map();
  const rows = await db.selectFrom('bus_topics').select(['name', 'partitions']).where('name', 'in', names).execute();
  return new Map(rows.map((row) => [row.name, row.partitions]));
}

/**
 * Appends records in one transaction. Each partition row is locked while its offsets are handed
 * out, so a later transaction's offsets in that partition commit after this one's: a consumer
 * never sees offset n+1 before n. Partitions are locked in a fixed order to avoid deadlocks.
 */
export async function appendRecords(
  db: Db,
  records: readonly RecordToAppend[],
  partitions: ReadonlyMap<string, number>,
): Promise<void> {
  const byPartition = new Map<string, { topic: string; partition: number; records: RecordToAppend[] }>();
  for (const record of records) {
    const count = partitions.get(record.topic);
    if (count === undefined) throw new Error(`topic ${record.topic} has no partition count`);
    const partition = partitionForKey(record.key, count);
    const id = `${record.topic}\u0000${String(partition).padStart(6, '0')}`;
    const group = byPartition.get(id) ?? { topic: record.topic, partition, records: [] };
    group.records.push(record);
    byPartition.set(id, group);
  }
  const ordered = [...byPartition.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, g]) => g);

  await db.transaction().execute(async (trx) => {
    const rows: Array<{ topic: string; partition: number; record_offset: string; key: string; value: string }> = [];
    for (const group of ordered) {
      const { next_offset } = await trx
        .updateTable('bus_partitions')
        .set({ next_offset: sql`next_offset + ${group.records.length}` })
        .where('topic', '=', group.topic)
        .where('partition', '=', group.partition)
        .returning('next_offset')
        .executeTakeFirstOrThrow();
      let offset = BigInt(next_offset) - BigInt(group.records.length);
      for (const record of group.records) {
        rows.push({
          topic: group.topic,
          partition: group.partition,
          record_offset: (offset++).toString(),
          key: record.key,
          value: record.value,
        });
      }
    }
    // 6 parameters a row; PostgreSQL allows 65,535 per statement.
    for (let i = 0; i < rows.length; i += 5_000) {
      await trx
        .insertInto('bus_records')
        .values(rows.slice(i, i + 5_000))
        .execute();
    }
    for (const topic of new Set(records.map((record) => record.topic))) {
      await sql`select pg_notify(${busChannel}, ${topic})`.execute(trx);
    }
  });
}

export async function readRecords(
  db: Db,
  topic: string,
  partition: number,
  from: bigint,
  limit: number,
): Promise<StoredRecord[]> {
  const rows = await db
    .selectFrom('bus_records')
    .select(['record_offset', 'key', 'value'])
    .where('topic', '=', topic)
    .where('partition', '=', partition)
    .where('record_offset', '>=', from.toString())
    .orderBy('record_offset')
    .limit(limit)
    .execute();
  return rows.map((row) => ({ offset: BigInt(row.record_offset), key: row.key, value: row.value }));
}

/** The group's committed position in a partition; 0 for a new group (the earliest record kept). */
export async function readCommittedOffset(db: Db, groupId: string, topic: string, partition: number): Promise<bigint> {
  const row = await db
    .selectFrom('bus_group_offsets')
    .select('next_offset')
    .where('group_id', '=', groupId)
    .where('topic', '=', topic)
    .where('partition', '=', partition)
    .executeTakeFirst();
  return row ? BigInt(row.next_offset) : 0n;
}

/** Records progress. Positions only move forward, even if a consumer that lost its partition commits late. */
export async function commitOffset(
  db: Db,
  groupId: string,
  topic: string,
  partition: number,
  nextOffset: bigint,
): Promise<void> {
  await db
    .insertInto('bus_group_offsets')
    .values({ group_id: groupId, topic, partition, next_offset: nextOffset.toString() })
    .onConflict((conflict) =>
      conflict.columns(['group_id', 'topic', 'partition']).doUpdateSet({
        next_offset: sql`greatest(bus_group_offsets.next_offset, excluded.next_offset)`,
        updated_at: sql`now()`,
      }),
    )
    .execute();
}

/**
 * Deletes records older than `maxAgeMs` that every group reading their partition has passed (with
 * no group, age alone decides, as in Kafka), and forgets members whose heartbeats stopped long ago.
 */
export async function deleteExpiredRecords(db: Db, maxAgeMs: number): Promise<number> {
  const result = await sql`
    with passed as (
      select p.topic, p.partition, coalesce(min(o.next_offset), p.next_offset) as upto
      from bus_partitions p
      left join bus_group_offsets o on o.topic = p.topic and o.partition = p.partition
      group by p.topic, p.partition, p.next_offset
    )
    delete from bus_records r
    using passed
    where r.topic = passed.topic and r.partition = passed.partition and r.record_offset < passed.upto
      and r.created_at < now() - make_interval(secs => ${maxAgeMs / 1000})`.execute(db);
  await db.deleteFrom('bus_group_members').where('heartbeat_at', '<', sql<Date>`now() - interval '1 hour'`).execute();
  return Number(result.numAffectedRows ?? 0n);
}
