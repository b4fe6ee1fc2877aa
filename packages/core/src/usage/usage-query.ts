import type { UsageEvent } from './usage-event.ts';

/** The width of one row of a usage series. */
export const usageBuckets = ['minute', 'hour', 'day'] as const;
export type UsageBucket = (typeof usageBuckets)[number];

/** What a usage series may be split by: `model` is the target that answered (`name@version`). */
export const usageGroupings = ['model', 'requested', 'route', 'key', 'project', 'status'] as const;
export type UsageGrouping = (typeof usageGroupings)[number];

/** The widest time range one query may cover per bucket, so a series stays a few thousand rows. */
export const usageMaxSpanMs: Readonly<Record<UsageBucket, number>> = {
  minute: 24 * 3_600_000,
  hour: 31 * 24 * 3_600_000,
  day: 400 * 24 * 3_600_000,
};

/** Narrows the calls counted; every filter is an exact match. */
export interface UsageFilters {
  /** null: every project (admin keys only). */
  projectId: string | null;
  model?: string;
  requested?: string;
  route?: string;
  keyId?: string;
  status?: number;
}

export interface UsageSummaryQuery extends UsageFilters {
  /** Inclusive. */
  from: Date;
  /** Exclusive. */
  to: Date;
  bucket: UsageBucket;
  groupBy: readonly UsageGrouping[];
}

/** The figures of a set of calls. */
export interface UsageFigures {
  requests: number;
  /** Calls that ended with an error code (a failed status, a stream that broke, a client that left). */
  errors: number;
  inputTokens: number;
  outputTokens: number;
  /** Sum of the calls that had a price; 0 when none had. */
  costUsd: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  /** Streams only; null when the set has none. */
  timeToFirstTokenP50Ms: number | null;
  cacheHits: number;
}

/** One bucket of one group: the group's values are the `groupBy` fields, in order. */
export interface UsageSeriesRow extends UsageFigures {
  bucketStart: Date;
  group: Partial<Record<UsageGrouping, string | number | null>>;
}

export interface UsageSummary {
  series: UsageSeriesRow[];
  /** The whole range, all groups together. */
  totals: UsageFigures;
}

/** A ledger row: the event as published, and the id of the envelope that carried it (the idempotency key). */
export interface RecordedUsage extends UsageEvent {
  eventId: string;
}

export interface UsageRecordsQuery extends UsageFilters {
  from: Date;
  to: Date;
  limit: number;
  /** From a previous page's `nextCursor`. */
  after?: string;
}
