import type { ConsumerDefinition } from './worker.ts';

/** A consumer group and the topics it reads. */
export interface ConsumerLagGroup {
  groupId: string;
  topics: readonly string[];
}

/** The distinct groups of `consumers`, each with every topic its consumers read (in first-seen order). */
export function consumerLagGroups(consumers: readonly ConsumerDefinition[]): ConsumerLagGroup[] {
  const groups = new Map<string, Set<string>>();
  for (const consumer of consumers) {
    const topics = groups.get(consumer.groupId) ?? new Set<string>();
    for (const topic of consumer.topics) topics.add(topic);
    groups.set(consumer.groupId, topics);
  }
  return [...groups].map(([groupId, topics]) => ({ groupId, topics: [...topics] }));
}
