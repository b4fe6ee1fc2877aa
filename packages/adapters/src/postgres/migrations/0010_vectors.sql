-- The embedded vector store's source of truth: an upsert is acknowledged once its rows are committed
-- here. The HNSW graph in memory (and its snapshot on disk) is rebuilt from these rows: rows whose
-- `seq` is newer than a snapshot are replayed into it on start, labels it has that are gone are deleted.

create table vector_indexes (
  id text primary key check (length(id) between 1 and 200),
  dimension integer not null check (dimension between 1 and 20000),
  metric text not null check (metric in ('cosine', 'dotproduct', 'euclidean')),
  created_at timestamptz not null default now()
);

-- One change counter for every write, so a snapshot can say which writes it holds.
create sequence vector_change_seq;

create table vectors (
  index_id text not null references vector_indexes (id) on delete cascade,
  namespace text not null,
  -- "C" collation: ids list in byte order (Pinecone's) and prefix scans use the primary key.
  id text collate "C" not null check (length(id) between 1 and 512),
  -- The vector's label in its namespace's HNSW graph, fixed while the row lives.
  label bigint not null,
  -- float32 little-endian, `dimension` of them.
  vals bytea not null,
  metadata jsonb,
  seq bigint not null default nextval('vector_change_seq'),
  primary key (index_id, namespace, id)
);

create unique index vectors_label on vectors (index_id, namespace, label);
create index vectors_seq on vectors (index_id, seq);
