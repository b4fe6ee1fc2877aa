-- Transactional outbox: events written in the same transaction as the change they describe, then
-- published to the event bus by the relay, which deletes them once the bus has them.
create table outbox (
  id bigint generated always as identity primary key,
  topic text not null,
  key text not null,
  value jsonb not null,
  created_at timestamptz not null default now()
);
