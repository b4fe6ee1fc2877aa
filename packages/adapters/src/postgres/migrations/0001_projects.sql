-- Projects scope everything a team registers and runs; `default` exists from the start.
create table projects (
  id text primary key check (length(id) between 1 and 200),
  name text not null check (length(name) between 1 and 200),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

insert into projects (id, name) values ('default', 'Default project');
