-- The model registry. A model is one row per name per project; its versions are immutable rows;
-- aliases (production, staging, latest …) point at versions, and every move is recorded.

create table models (
  id uuid primary key default gen_random_uuid(),
  project_id text not null references projects (id),
  name text not null check (length(name) between 1 and 200),
  kind text not null check (kind ~ '^[a-z][a-z0-9-]{0,39}$'),
  description text not null default '',
  tags text[] not null default '{}',
  status text not null default 'registered'
    check (status in ('registered', 'deploying', 'ready', 'failed', 'retired')),
  -- The newest version number; the next version is allocated under this row's lock.
  latest_version integer not null default 0 check (latest_version >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (project_id, name)
);

create index models_by_kind on models (kind, project_id, name);
create index models_by_status on models (status, project_id, name);
create index models_by_tags on models using gin (tags);

create table model_versions (
  model_id uuid not null references models (id) on delete cascade,
  version integer not null check (version >= 1),
  provider text not null,
  provider_model_id text not null,
  base_url text,
  credential text,
  parameters jsonb not null default '{}',
  options jsonb not null default '{}',
  capabilities jsonb not null default '{}',
  pricing jsonb,
  artifact jsonb,
  created_by text not null,
  created_at timestamptz not null default now(),
  primary key (model_id, version)
);

create index model_versions_by_provider on model_versions (provider);

-- `name@3` must mean the same thing forever: a version row never changes (purging deletes it whole).
create function refuse_model_version_update() returns trigger
language plpgsql as $$
begin
  raise exception 'model versions are immutable: create a new version instead'
    using errcode = 'integrity_constraint_violation';
end;
$$;

create trigger model_versions_immutable
  before update on model_versions
  for each row execute function refuse_model_version_update();

create table model_aliases (
  model_id uuid not null,
  alias text not null check (alias ~ '^[a-z][a-z0-9-]{0,62}$'),
  version integer not null,
  updated_by text not null,
  updated_at timestamptz not null default now(),
  primary key (model_id, alias),
  foreign key (model_id, version) references model_versions (model_id, version) on delete cascade
);

-- One row per move: from_version is null when the alias was created, to_version null when deleted.
create table model_alias_history (
  id bigint generated always as identity primary key,
  model_id uuid not null references models (id) on delete cascade,
  alias text not null,
  from_version integer,
  to_version integer,
  actor text not null,
  at timestamptz not null default now()
);

create index model_alias_history_by_alias on model_alias_history (model_id, alias, id desc);
