-- The usage ledger: one row per call through the gateway (docs/usage-ledger.md).
-- Partitioned by day on `ts` (when the call started, UTC): retention drops whole partitions instead of
-- deleting rows. The ledger consumer and its maintenance task create the daily partitions
-- (`usage_records_pYYYYMMDD`); the default partition catches what no daily one covers, and rows in it
-- move to their day's partition when that is created.
create table usage_records (
  ts timestamptz not null,
  -- The id of the bus envelope that carried the event: with `ts`, the idempotency key (a redelivered
  -- record inserts nothing). The request id may repeat, since clients may send their own.
  event_id text not null,
  request_id text not null,
  project_id text not null,
  key_id text,
  endpoint text not null,
  requested text not null,
  route text,
  target text,
  provider text,
  input_tokens integer not null check (input_tokens >= 0),
  output_tokens integer not null check (output_tokens >= 0),
  -- Exact sums; null when the model has no price.
  cost_usd numeric(20, 12) check (cost_usd >= 0),
  latency_ms double precision not null,
  time_to_first_token_ms double precision,
  stream boolean not null,
  status smallint not null,
  error_code text,
  cache_hit boolean not null,
  attempts integer not null,
  -- When the ledger wrote the row: `recorded_at - ts` is how far behind the ledger runs.
  recorded_at timestamptz not null default now(),
  primary key (ts, event_id)
) partition by range (ts);

create table usage_records_default partition of usage_records default;

-- A project's calls over time, and its newest-first pages.
create index usage_records_by_project on usage_records (project_id, ts desc, event_id desc);
