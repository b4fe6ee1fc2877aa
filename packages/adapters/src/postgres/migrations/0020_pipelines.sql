-- Pipelines (docs/pipelines.md): one row per name per project, immutable versions holding the
-- validated definition, aliases (production, staging, ...) pointing at versions, and the rollout
-- (canary split and shadow between versions).
create table pipelines (
  project_id text not null references projects (id),
  name text not null check (length(name) between 1 and 200),
  description text not null default '',
  latest_version integer not null check (latest_version >= 1),
  -- {"canary": {"version": 3, "percent": 10}, "shadow": {"version": 4}} or null.
  rollout jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (project_id, name)
);

create table pipeline_versions (
  project_id text not null,
  name text not null,
  version integer not null check (version >= 1),
  definition jsonb not null check (jsonb_typeof(definition) = 'object'),
  description text not null default '',
  created_by text not null,
  created_at timestamptz not null default now(),
  primary key (project_id, name, version),
  foreign key (project_id, name) references pipelines (project_id, name) on delete cascade
);

create function refuse_pipeline_version_update() returns trigger
language plpgsql as $$
begin
  raise exception 'pipeline versions are immutable: create a new version instead'
    using errcode = 'integrity_constraint_violation';
end;
$$;

create trigger pipeline_versions_immutable
  before update on pipeline_versions
  for each row execute function refuse_pipeline_version_update();

create table pipeline_aliases (
  project_id text not null,
  name text not null,
  alias text not null check (alias ~ '^[a-z][a-z0-9_-]{0,62}$'),
  version integer not null,
  updated_at timestamptz not null default now(),
  primary key (project_id, name, alias),
  foreign key (project_id, name, version) references pipeline_versions (project_id, name, version) on delete cascade
);

-- Runs and their steps: the trace (input and output redacted by configuration) and, while the run
-- is running, each finished step's raw result (`checkpoint`), from which an interrupted run resumes.
-- Checkpoints are cleared when the run ends; whole runs go after the retention period.
create table pipeline_runs (
  id text primary key,
  project_id text not null references projects (id),
  pipeline text not null,
  version integer not null,
  status text not null check (status in ('running', 'succeeded', 'failed', 'cancelled')),
  source text not null check (source in ('api', 'gateway', 'job', 'shadow')),
  -- The run this one shadows (its answer was not returned to anyone).
  shadow_of text,
  key_id text,
  input jsonb,
  -- The input as given, kept until the run ends so that a resumed run starts from it.
  raw_input jsonb,
  output jsonb,
  error jsonb,
  input_tokens bigint not null default 0,
  output_tokens bigint not null default 0,
  cost_usd numeric(24, 12),
  latency_ms double precision,
  -- The process running it, and until when it counts as alive (renewed while it runs).
  owner text,
  lease_until timestamptz,
  resumed integer not null default 0,
  created_at timestamptz not null default now(),
  finished_at timestamptz
);
create index pipeline_runs_project_created on pipeline_runs (project_id, created_at desc, id desc);
create index pipeline_runs_interrupted on pipeline_runs (lease_until) where status = 'running';
create index pipeline_runs_finished on pipeline_runs (finished_at) where finished_at is not null;

create table pipeline_run_steps (
  run_id text not null references pipeline_runs (id) on delete cascade,
  path text not null,
  parent_path text,
  step_id text not null,
  kind text not null,
  status text not null check (status in ('running', 'succeeded', 'failed')),
  attempt integer not null default 0,
  input jsonb,
  output jsonb,
  checkpoint jsonb,
  model text,
  input_tokens bigint not null default 0,
  output_tokens bigint not null default 0,
  cost_usd numeric(24, 12),
  latency_ms double precision not null default 0,
  error jsonb,
  cached boolean not null default false,
  started_at timestamptz not null,
  finished_at timestamptz,
  primary key (run_id, path)
);
