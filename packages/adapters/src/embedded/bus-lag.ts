import type { PartitionLag } from '@ensemble/core';
import { type Kysely, sql } from 'kysely';
import type { DatabaseSchema } from '../postgres/database-schema.ts';

interface LagRow {
  topic: string;
  partition: number;
  committed: string | null;
  end_offset: string;
  earliest: string;
}

/**
 * A group's lag per partition of `topics` (or of the topics it has committed in): the distance from
 * its committed offset, or from the earliest record kept when it has none (where a new group starts,
 * as retention may have deleted the first ones), to the partition's next offset. One statement.
 */
export async function readConsumerLag(
  db: Kysely<DatabaseSchema>,
  groupId: string,
  topics: readonly string[] | undefined,
): Promise<PartitionLag[]> {
  const topicFilter =
    topics === undefined
      ? sql`p.topic in (select topic from bus_group_offsets where group_id = ${groupId})`
      : topics.length === 0
        ? sql`false`
        : sql`p.topic in (${sql.join([...new Set(topics)])})`;
  const { rows } = await sql<LagRow>`
    select p.topic, p.partition, o.next_offset::text as committed, p.next_offset::text as end_offset,
      coalesce((select min(r.record_offset) from bus_records r where r.topic = p.topic and r.partition = p.partition),
        p.next_offset)::text as earliest
    from bus_partitions p
    left join bus_group_offsets o on o.group_id = ${groupId} and o.topic = p.topic and o.partition = p.partition
    where ${topicFilter}
    order by p.topic, p.partition`.execute(db);
  return rows.map((row) => {
    const end = BigInt(row.end_offset);
    const from = BigInt(row.committed ?? row.earliest);
    return {
      topic: row.topic,
      partition: row.partition,
      committedOffset: row.committed,
      endOffset: row.end_offset,
      lag: end > from ? Number(end - from) : 0,
    };
  });
}
