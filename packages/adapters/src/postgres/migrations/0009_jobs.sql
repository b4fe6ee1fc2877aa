-- Async jobs (docs/jobs.md). A job, its items, their results and its events; the tasks themselves
-- travel on the event bus. Results are unique per item, so a task delivered twice never writes twice.
create table jobs (
  id text primary key check (id ~ '^job_[A-Za-z0-9]{20}$'),
  project_id text not null references projects (id),
  type text not null check (type in ('batch-inference', 'embed')),
  status text not null check (status in ('queued', 'running', 'completed', 'completed_with_errors', 'cancelled')),
  -- The model as the submission named it, and the version it was pinned to.
  model text not null,
  target_name text not null,
  target_version integer not null,
  target_kind text not null check (target_kind in ('chat', 'embedding')),
  priority text not null check (priority in ('normal', 'high')),
  item_timeout_ms integer not null check (item_timeout_ms > 0),
  retry jsonb not null,
  metadata jsonb not null default '{}',
  idempotency_key text,
  request_sha256 text not null,
  source text not null default 'api' check (source in ('api', 'openai-batch')),
  source_details jsonb,
  total_items integer not null check (total_items >= 0),
  -- The first round's tasks for items 0 … planned_items - 1 are on the bus.
  planned_items integer not null default 0,
  succeeded_items integer not null default 0,
  failed_items integer not null default 0,
  input_tokens bigint not null default 0,
  output_tokens bigint not null default 0,
  -- Null while no item had a price.
  cost_usd numeric(24, 12),
  round integer not null default 1,
  -- The seq of the job's last event (job_events).
  event_seq bigint not null default 0,
  created_by text,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz,
  cancelled_at timestamptz,
  updated_at timestamptz not null default now(),
  -- The completion webhook: delivered by the workers, retried with backoff until it is taken or gives up.
  webhook_url text,
  webhook_status text check (webhook_status in ('pending', 'delivered', 'failed')),
  webhook_attempts integer not null default 0,
  webhook_next_at timestamptz,
  webhook_last_error text,
  webhook_delivered_at timestamptz
);

create unique index jobs_idempotency on jobs (project_id, idempotency_key) where idempotency_key is not null;
create index jobs_by_project on jobs (project_id, created_at desc, id desc);
create index jobs_webhooks_due on jobs (webhook_next_at) where webhook_status = 'pending';

create table job_items (
  job_id text not null references jobs (id) on delete cascade,
  item_index integer not null check (item_index >= 0),
  custom_id text,
  -- The request body (without model).
  input jsonb not null,
  primary key (job_id, item_index)
);

create table job_results (
  job_id text not null,
  item_index integer not null,
  status text not null check (status in ('succeeded', 'failed')),
  output jsonb,
  error jsonb,
  attempts integer not null,
  input_tokens integer not null default 0,
  output_tokens integer not null default 0,
  cost_usd numeric(24, 12),
  started_at timestamptz not null,
  finished_at timestamptz not null,
  primary key (job_id, item_index),
  foreign key (job_id, item_index) references job_items (job_id, item_index) on delete cascade
);

-- What happened to a job, numbered per job: the SSE stream resumes from a seq (Last-Event-ID).
create table job_events (
  job_id text not null references jobs (id) on delete cascade,
  seq bigint not null,
  type text not null,
  data jsonb not null,
  created_at timestamptz not null default now(),
  primary key (job_id, seq)
);

-- Files uploaded through OpenAI's Files API (/v1/files, purpose batch); the bytes are in the artifact store.
create table batch_files (
  id text primary key check (id ~ '^file-[A-Za-z0-9]{24}$'),
  project_id text not null references projects (id),
  purpose text not null,
  filename text not null,
  bytes bigint not null,
  sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  created_at timestamptz not null default now()
);

create index batch_files_by_project on batch_files (project_id, created_at desc, id desc);
