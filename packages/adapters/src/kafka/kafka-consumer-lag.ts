import type { PartitionLag } from '@ensemble/core';
import { type Admin, ListOffsetTimestamps } from '@platformatic/kafka';

/**
 * A group's lag per partition, from the admin API: the group's committed offsets (OffsetFetch), the
 * partitions' end offsets (ListOffsets latest) and, for partitions the group has not committed in,
 * their earliest offsets (ListOffsets earliest: where a new group starts). Without `topics`, the topics
 * the group has committed in. Unbounded here; the bus puts a deadline on it.
 */
export async function readKafkaConsumerLag(
  admin: Admin,
  groupId: string,
  topics: readonly string[] | undefined,
): Promise<PartitionLag[]> {
  const [group] = await admin.listConsumerGroupOffsets({ groups: [groupId] });
  const committed = new Map<string, bigint>();
  for (const topic of group?.topics ?? []) {
    for (const partition of topic.partitions) {
      // -1 means no offset is committed for that partition.
      if (partition.committedOffset >= 0n)
        committed.set(partitionId(topic.name, partition.partitionIndex), partition.committedOffset);
    }
  }
  const names = topics
    ? [...new Set(topics)]
    : [
        ...new Set(
          (group?.topics ?? []).filter((t) => t.partitions.some((p) => p.committedOffset >= 0n)).map((t) => t.name),
        ),
      ];
  if (names.length === 0) return [];

  const metadata = await admin.metadata({ topics: names, forceUpdate: true, autocreateTopics: false });
  const partitions = names.flatMap((name) => {
    const count = metadata.topics.get(name)?.partitionsCount ?? 0;
    return Array.from({ length: count }, (_, partition) => ({ topic: name, partition }));
  });
  const request = (timestamp: bigint) =>
    names.map((name) => ({
      name,
      partitions: partitions.filter((p) => p.topic === name).map((p) => ({ partitionIndex: p.partition, timestamp })),
    }));
  const [ends, starts] = await Promise.all([
    admin.listOffsets({ topics: request(ListOffsetTimestamps.LATEST) }),
    admin.listOffsets({ topics: request(ListOffsetTimestamps.EARLIEST) }),
  ]);
  const offsetsOf = (listed: typeof ends) =>
    new Map(listed.flatMap((t) => t.partitions.map((p) => [partitionId(t.name, p.partitionIndex), p.offset] as const)));
  const endOffsets = offsetsOf(ends);
  const startOffsets = offsetsOf(starts);

  return partitions.map(({ topic, partition }) => {
    const id = partitionId(topic, partition);
    const end = endOffsets.get(id) ?? 0n;
    const position = committed.get(id);
    const from = position ?? startOffsets.get(id) ?? 0n;
    return {
      topic,
      partition,
      committedOffset: position === undefined ? null : position.toString(),
      endOffset: end.toString(),
      lag: end > from ? Number(end - from) : 0,
    };
  });
}

function partitionId(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
