-- Routes (virtual models): one row per name per project, immutable versions holding the policy tree,
-- and a current version the gateway serves (the newest unless moved back). The policy is validated by
-- core's parser before it is written and again when it is read.

create table routes (
  id uuid primary key default gen_random_uuid(),
  project_id text not null references projects (id),
  name text not null check (length(name) between 1 and 200),
  status text not null default 'active' check (status in ('active', 'retired')),
  current_version integer not null check (current_version >= 1),
  -- The newest version number; the next version is allocated under this row's lock.
  latest_version integer not null check (latest_version >= current_version),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  updated_by text not null,
  unique (project_id, name)
);

create table route_versions (
  route_id uuid not null references routes (id) on delete cascade,
  version integer not null check (version >= 1),
  policy jsonb not null check (jsonb_typeof(policy) = 'object'),
  description text not null default '',
  -- Every target the policy names, as written: which routes use a model, which routes nest a route.
  targets text[] not null,
  created_by text not null,
  created_at timestamptz not null default now(),
  primary key (route_id, version)
);

-- The current version must exist; checked at commit, since a route and its version 1 are inserted together.
alter table routes
  add constraint routes_current_version_exists foreign key (id, current_version)
  references route_versions (route_id, version) deferrable initially deferred;

-- `name@3` must mean the same thing forever: a version row never changes (purging deletes it whole).
create function refuse_route_version_update() returns trigger
language plpgsql as $$
begin
  raise exception 'route versions are immutable: create a new version instead'
    using errcode = 'integrity_constraint_violation';
end;
$$;

create trigger route_versions_immutable
  before update on route_versions
  for each row execute function refuse_route_version_update();
