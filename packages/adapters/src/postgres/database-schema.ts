import type { ProjectRole } from '@ensemble/core';
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
  models: ModelsTable;
  model_versions: ModelVersionsTable;
  model_aliases: ModelAliasesTable;
  model_alias_history: ModelAliasHistoryTable;
  model_status_history: ModelStatusHistoryTable;
  credentials: CredentialsTable;
  api_keys: ApiKeysTable;
  usage_records: UsageRecordsTable;
  routes: RoutesTable;
  route_versions: RouteVersionsTable;
  jobs: JobsTable;
  job_items: JobItemsTable;
  job_results: JobResultsTable;
  job_events: JobEventsTable;
  batch_files: BatchFilesTable;
  artifact_owners: ArtifactOwnersTable;
  limits: LimitsTable;
  budget_warnings: BudgetWarningsTable;
  audit_log: AuditLogTable;
  users: UsersTable;
  user_memberships: UserMembershipsTable;
  user_sessions: UserSessionsTable;
  auth_failures: AuthFailuresTable;
}

/** Console users (migration 0050). */
export interface UsersTable {
  id: string;
  email: string;
  name: string | null;
  password_hash: string | null;
  platform_admin: ColumnType<boolean, boolean | undefined, boolean>;
  oidc_issuer: string | null;
  oidc_subject: string | null;
  created_at: CreatedAt;
  disabled_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  last_login_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface UserMembershipsTable {
  user_id: string;
  project_id: string;
  role: ProjectRole;
  created_at: CreatedAt;
}

export interface UserSessionsTable {
  secret_sha256: Buffer;
  user_id: string;
  created_at: CreatedAt;
  expires_at: Date;
  revoked_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  source_ip: string | null;
}

export interface AuthFailuresTable {
  scope: string;
  subject: string;
  window_start: Date;
  failures: number;
}

export interface AuditLogTable {
  id: Generated<string>;
  at: CreatedAt;
  project_id: string;
  actor_key_id: string | null;
  actor_user_id: ColumnType<string | null, string | null | undefined, never>;
  actor_role: string | null;
  source_ip: string | null;
  action: string;
  resource_type: string;
  resource_id: string | null;
  route: string;
  status: number;
  request_id: string;
  before: ColumnType<unknown, string | null, never>;
  after: ColumnType<unknown, string | null, never>;
}

export interface LimitsTable {
  project_id: string;
  key_id: string | null;
  settings: ColumnType<unknown, string, string>;
  updated_at: UpdatedAt;
}

export interface BudgetWarningsTable {
  project_id: string;
  scope: string;
  period_start: Date;
  warned_at: CreatedAt;
}

export interface ArtifactOwnersTable {
  project_id: string;
  sha256: string;
  created_at: CreatedAt;
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

/** JSON columns: read as parsed values, written as JSON text (pg would send arrays as PostgreSQL arrays). */
type JsonColumn<T> = ColumnType<T, string, string>;
type NullableJsonColumn<T> = ColumnType<T | null, string | null, string | null>;

export interface ModelsTable {
  id: Generated<string>;
  project_id: string;
  name: string;
  kind: string;
  description: ColumnType<string, string | undefined, string>;
  tags: ColumnType<string[], string[] | undefined, string[]>;
  status: ColumnType<string, string | undefined, string>;
  latest_version: ColumnType<number, number | undefined, number>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface ModelVersionsTable {
  model_id: string;
  version: number;
  provider: string;
  provider_model_id: string;
  base_url: string | null;
  credential: string | null;
  parameters: JsonColumn<Record<string, unknown>>;
  options: JsonColumn<Record<string, unknown>>;
  capabilities: JsonColumn<Record<string, unknown>>;
  pricing: NullableJsonColumn<{ inputPerMillionTokens: number; outputPerMillionTokens: number }>;
  artifact: NullableJsonColumn<{ sha256: string; format: string }>;
  created_by: string;
  created_at: CreatedAt;
}

export interface ModelAliasesTable {
  model_id: string;
  alias: string;
  version: number;
  updated_by: string;
  updated_at: UpdatedAt;
}

export interface ModelAliasHistoryTable {
  id: Generated<string>;
  model_id: string;
  alias: string;
  from_version: number | null;
  to_version: number | null;
  actor: string;
  at: CreatedAt;
}

export interface ModelStatusHistoryTable {
  id: Generated<string>;
  model_id: string;
  from_status: string;
  to_status: string;
  reason: string | null;
  actor: string;
  at: CreatedAt;
}

export interface CredentialsTable {
  project_id: string;
  name: string;
  provider: string;
  ciphertext: Buffer;
  iv: Buffer;
  auth_tag: Buffer;
  key_id: string;
  hint: string;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface ApiKeysTable {
  id: string;
  project_id: string;
  name: string;
  secret_sha256: Buffer;
  prefix: string;
  admin: ColumnType<boolean, boolean | undefined, boolean>;
  role: ColumnType<ProjectRole, ProjectRole | undefined, ProjectRole>;
  allowed_ips: ColumnType<string[] | null, string[] | null | undefined, string[] | null>;
  allowed_models: string[] | null;
  tags: ColumnType<string[], string[] | undefined, string[]>;
  bootstrap: ColumnType<boolean, boolean | undefined, boolean>;
  expires_at: Date | null;
  created_at: CreatedAt;
  last_used_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  revoked_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

/** Partitioned by day on `ts` (migration 0008); written by the ledger consumer only. */
export interface UsageRecordsTable {
  ts: Date;
  event_id: string;
  request_id: string;
  project_id: string;
  key_id: string | null;
  endpoint: string;
  requested: string;
  route: string | null;
  target: string | null;
  provider: string | null;
  input_tokens: number;
  output_tokens: number;
  /** `numeric`: pg returns it as a string, so sums stay exact. */
  cost_usd: ColumnType<string | null, number | string | null, number | string | null>;
  latency_ms: number;
  time_to_first_token_ms: number | null;
  stream: boolean;
  status: number;
  error_code: string | null;
  cache_hit: boolean;
  attempts: number;
  attempt_trace: ColumnType<unknown, string | null | undefined, string | null>;
  recorded_at: CreatedAt;
}

export interface RoutesTable {
  id: Generated<string>;
  project_id: string;
  name: string;
  status: ColumnType<string, string | undefined, string>;
  current_version: number;
  latest_version: number;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
  updated_by: string;
}

export interface RouteVersionsTable {
  route_id: string;
  version: number;
  /** The validated policy tree; parsed again by core when read. */
  policy: JsonColumn<unknown>;
  description: string;
  targets: string[];
  created_by: string;
  created_at: CreatedAt;
}

export interface JobsTable {
  id: string;
  project_id: string;
  type: string;
  status: string;
  model: string;
  target_name: string;
  target_version: number;
  target_kind: string;
  target_type: ColumnType<string, string | undefined, string>;
  priority: string;
  item_timeout_ms: number;
  retry: JsonColumn<{ maxAttempts: number; initialDelayMs: number; maxDelayMs: number }>;
  metadata: ColumnType<Record<string, string>, string | undefined, string>;
  idempotency_key: string | null;
  request_sha256: string;
  source: ColumnType<string, string | undefined, string>;
  source_details: NullableJsonColumn<Record<string, unknown>>;
  total_items: number;
  planned_items: ColumnType<number, number | undefined, number>;
  /** Ingestion jobs: chunks embedded and known (migration 0045). */
  progress_done: ColumnType<number | null, number | null | undefined, number | null>;
  progress_total: ColumnType<number | null, number | null | undefined, number | null>;
  succeeded_items: ColumnType<number, number | undefined, number>;
  failed_items: ColumnType<number, number | undefined, number>;
  input_tokens: ColumnType<string, string | number | undefined, string | number>;
  output_tokens: ColumnType<string, string | number | undefined, string | number>;
  /** numeric: pg returns it as a string. */
  cost_usd: ColumnType<string | null, string | number | null | undefined, string | number | null>;
  round: ColumnType<number, number | undefined, number>;
  event_seq: ColumnType<string, string | number | undefined, string | number>;
  created_by: string | null;
  created_at: CreatedAt;
  started_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  finished_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  cancelled_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  updated_at: UpdatedAt;
  webhook_url: string | null;
  webhook_status: ColumnType<string | null, string | null | undefined, string | null>;
  webhook_attempts: ColumnType<number, number | undefined, number>;
  webhook_next_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  webhook_last_error: ColumnType<string | null, string | null | undefined, string | null>;
  webhook_delivered_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface JobItemsTable {
  job_id: string;
  item_index: number;
  custom_id: string | null;
  input: JsonColumn<Record<string, unknown>>;
}

export interface JobResultsTable {
  job_id: string;
  item_index: number;
  status: string;
  output: NullableJsonColumn<unknown>;
  error: NullableJsonColumn<{ code: string; message: string; retryable: boolean }>;
  attempts: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: ColumnType<string | null, string | number | null, string | number | null>;
  started_at: Date;
  finished_at: Date;
}

export interface JobEventsTable {
  job_id: string;
  seq: BigIntColumn;
  type: string;
  data: JsonColumn<unknown>;
  created_at: CreatedAt;
}

export interface BatchFilesTable {
  id: string;
  project_id: string;
  purpose: string;
  filename: string;
  bytes: BigIntColumn;
  sha256: string;
  created_at: CreatedAt;
}
