-- Followers of the embedded vector store (processes that serve queries from their own in-memory graphs
-- but never write, e.g. `ensemble worker`) catch up from PostgreSQL before each query: the rows whose
-- `seq` is newer than theirs, and the deletions since. Deletions are hard deletes, so the writer leaves a
-- trace of each here, in the same statement, numbered from the same sequence. The writer prunes traces
-- older than its retention and records the newest pruned `seq`: a follower older than that reloads.

-- Which incarnation of an index this is: a follower seeing another one (dropped and made again) reloads.
alter table vector_indexes add column created_seq bigint not null default nextval('vector_change_seq');
alter table vector_indexes add column deletions_pruned_seq bigint not null default 0;

create table vector_deletions (
  index_id text not null references vector_indexes (id) on delete cascade,
  namespace text not null,
  -- null: the whole namespace was deleted.
  id text collate "C",
  seq bigint not null,
  deleted_at timestamptz not null default now()
);

create index vector_deletions_seq on vector_deletions (index_id, seq);
