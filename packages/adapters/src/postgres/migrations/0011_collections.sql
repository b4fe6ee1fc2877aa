-- Collections: a named set of vectors in a project, stored in the embedded index (storage_id names
-- its vector_indexes row) or in Pinecone (storage_id is the Pinecone index name), with the embedding
-- model and exact version that produced its vectors (lineage; null for vector-only collections).

create table collections (
  id uuid primary key default gen_random_uuid(),
  project_id text not null references projects (id),
  name text not null check (name ~ '^[a-z0-9]([a-z0-9-]{0,43}[a-z0-9])?$'),
  backend text not null check (backend in ('embedded', 'pinecone')),
  dimension integer not null check (dimension between 1 and 20000),
  metric text not null check (metric in ('cosine', 'dotproduct', 'euclidean')),
  embedding_model text,
  embedding_model_version integer,
  storage_id text not null,
  description text not null default '',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (project_id, name),
  check ((embedding_model is null) = (embedding_model_version is null))
);
