-- The embedded event bus: Kafka's model (topics, partitions, offsets, consumer groups) on PostgreSQL.

create table bus_topics (
  name text primary key,
  partitions integer not null check (partitions between 1 and 10000),
  created_at timestamptz not null default now()
);

-- One row per partition; publishers lock it to hand out offsets, so offsets become visible in order.
create table bus_partitions (
  topic text not null references bus_topics (name) on delete cascade,
  partition integer not null check (partition >= 0),
  next_offset bigint not null default 0,
  primary key (topic, partition)
);

-- The log. `value` is the published JSON text, kept as is; consumers validate it.
create table bus_records (
  topic text not null,
  partition integer not null,
  record_offset bigint not null,
  key text not null,
  value text not null,
  created_at timestamptz not null default now(),
  primary key (topic, partition, record_offset)
);

-- Committed positions: `next_offset` is the first record the group has not handled.
create table bus_group_offsets (
  group_id text not null,
  topic text not null,
  partition integer not null,
  next_offset bigint not null,
  updated_at timestamptz not null default now(),
  primary key (group_id, topic, partition)
);

create index bus_group_offsets_by_partition on bus_group_offsets (topic, partition);

-- Live consumers per group and topic (heartbeats), from which each member computes its fair share
-- of partitions. Ownership itself is a session advisory lock, released when a process dies.
create table bus_group_members (
  group_id text not null,
  topic text not null,
  member_id text not null,
  heartbeat_at timestamptz not null default now(),
  primary key (group_id, topic, member_id)
);
