-- Provider API keys, encrypted with AES-256-GCM under a master key that never reaches the database.
-- `key_id` fingerprints the master key that encrypted the row, so rotation knows what to redo.
create table credentials (
  project_id text not null references projects (id),
  name text not null check (length(name) between 1 and 63),
  provider text not null,
  ciphertext bytea not null,
  iv bytea not null check (length(iv) = 12),
  auth_tag bytea not null check (length(auth_tag) = 16),
  key_id text not null,
  -- At most a prefix and the last four characters (`sk-…abcd`), as the API shows it.
  hint text not null default '',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (project_id, name)
);

create index credentials_by_key on credentials (key_id);
