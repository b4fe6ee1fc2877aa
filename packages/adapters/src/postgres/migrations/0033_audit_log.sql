-- The audit log: every administrative change, appended, never changed (docs/security.md).
create table audit_log (
  id bigint generated always as identity primary key,
  at timestamptz not null default clock_timestamp(),
  project_id text not null,
  actor_key_id text,
  actor_role text,
  source_ip text,
  action text not null,
  resource_type text not null,
  resource_id text,
  route text not null,
  status smallint not null,
  request_id text not null,
  before jsonb,
  after jsonb
);

create index audit_log_by_project on audit_log (project_id, id desc);

-- Append-only for everyone who connects, the application's own role included: a change or removal of
-- an entry is refused by the database, not merely not offered by the API.
create function audit_log_refuse_change() returns trigger
language plpgsql as $$
begin
  raise exception 'audit_log is append-only: % is not allowed', tg_op using errcode = 'insufficient_privilege';
end $$;

create trigger audit_log_no_update_or_delete before update or delete on audit_log
  for each row execute function audit_log_refuse_change();
create trigger audit_log_no_truncate before truncate on audit_log
  for each statement execute function audit_log_refuse_change();
