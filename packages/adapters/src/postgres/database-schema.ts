import type { ColumnType, Generated } from 'kysely';

/**
 * The tables Kysely knows about, one interface per table. Each migration that adds a table adds its
 * interface here. Columns the database fills in are `Generated`.
 */
export interface DatabaseSchema {
  schema_migrations: SchemaMigrationsTable;
  projects: ProjectsTable;
  outbox: OutboxTable;
  bus_topics: BusTopicsTable;
  bus_partitions: BusPartitionsTable;
  bus_records: BusRecordsTable;
  bus_group_offsets: BusGroupOffsetsTable;
  bus_group_members: BusGroupMembersTable;
}

/** `bigint` columns: pg returns them as strings (they may exceed 2^53); numbers are accepted on write. */
type BigIntColumn = ColumnType<string, string | number | bigint, string | number | bigint>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type UpdatedAt = ColumnType<Date, Date | string | undefined, Date | string>;

export interface SchemaMigrationsTable {
  version: number;
  name: string;
  checksum: string;
  applied_at: CreatedAt;
  duration_ms: number;
}

export interface ProjectsTable {
  id: string;
  name: string;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface OutboxTable {
  id: Generated<string>;
  topic: string;
  key: string;
  /** The event envelope, as JSON. */
  value: ColumnType<unknown, string, string>;
  created_at: CreatedAt;
}

export interface BusTopicsTable {
  name: string;
  partitions: number;
  created_at: CreatedAt;
}

export interface BusPartitionsTable {
  topic: string;
  partition: number;
  /** The offset the next record published to this partition gets. */
  next_offset: ColumnType<string, string | number | undefined, string | number>;
}

export interface BusRecordsTable {
  topic: string;
  partition: number;
  record_offset: BigIntColumn;
  key: string;
  /** The record's value exactly as published (JSON text); consumers validate it. */
  value: string;
  created_at: CreatedAt;
}

export interface BusGroupOffsetsTable {
  group_id: string;
  topic: string;
  partition: number;
  /** The offset of the next record the group has not handled yet (Kafka's committed offset). */
  next_offset: BigIntColumn;
  updated_at: UpdatedAt;
}

export interface BusGroupMembersTable {
  group_id: string;
  topic: string;
  member_id: string;
  heartbeat_at: UpdatedAt;
}
