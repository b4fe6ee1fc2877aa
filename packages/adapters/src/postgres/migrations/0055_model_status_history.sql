-- Every change of a model's status (deploys, failed health checks, recoveries, retirement), written
-- in the transaction of the change, so the console can show a model's health history and why.
create table model_status_history (
  id bigint generated always as identity primary key,
  model_id uuid not null references models (id) on delete cascade,
  from_status text not null,
  to_status text not null,
  reason text,
  actor text not null,
  at timestamptz not null default now()
);

create index model_status_history_by_model on model_status_history (model_id, id desc);
