-- The artifact store is shared and content-addressed; which project uploaded what is kept here, so
-- that a project sees and uses only its own uploads (to the others they do not exist).
create table artifact_owners (
  project_id text not null references projects (id),
  sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  created_at timestamptz not null default now(),
  primary key (project_id, sha256)
);
