-- Rate limits and budgets per project (key_id null) and per key (docs/security.md, decision 0022).
create table limits (
  project_id text not null references projects (id),
  -- null: the project's own limit; else one of its keys'.
  key_id text references api_keys (id),
  settings jsonb not null,
  updated_at timestamptz not null default now()
);
create unique index limits_one_per_scope on limits (project_id, coalesce(key_id, ''));

-- Token buckets shared by every instance; each instance leases a few tokens at a time.
create table rate_buckets (
  bucket text primary key,
  tokens double precision not null,
  updated_at timestamptz not null
);

-- Refills the bucket for the time elapsed (up to its capacity), then takes up to p_want tokens; one
-- round trip, the row locked for its duration. A new bucket starts full.
create function rate_bucket_take(p_bucket text, p_capacity double precision, p_per_second double precision, p_want double precision)
returns table (granted double precision, remaining double precision)
language plpgsql as $$
declare
  v_now timestamptz := clock_timestamp();
  v_tokens double precision;
begin
  insert into rate_buckets as b (bucket, tokens, updated_at) values (p_bucket, p_capacity, v_now)
  on conflict (bucket) do update
    set tokens = least(p_capacity, b.tokens + greatest(0, extract(epoch from v_now - b.updated_at)) * p_per_second),
        updated_at = v_now
  returning b.tokens into v_tokens;
  granted := least(p_want, greatest(v_tokens, 0));
  remaining := v_tokens - granted;
  update rate_buckets set tokens = remaining where bucket = p_bucket;
  return next;
end $$;

-- Adds tokens (or, negative, charges a debt the refill pays off), after the same refill.
create function rate_bucket_give(p_bucket text, p_capacity double precision, p_per_second double precision, p_amount double precision)
returns void
language plpgsql as $$
declare
  v_now timestamptz := clock_timestamp();
begin
  insert into rate_buckets as b (bucket, tokens, updated_at) values (p_bucket, least(p_capacity, p_capacity + p_amount), v_now)
  on conflict (bucket) do update
    set tokens = least(p_capacity, least(p_capacity, b.tokens + greatest(0, extract(epoch from v_now - b.updated_at)) * p_per_second) + p_amount),
        updated_at = v_now;
end $$;

-- One warning per budget and period, whichever instance notices first.
create table budget_warnings (
  project_id text not null,
  scope text not null,
  period_start timestamptz not null,
  warned_at timestamptz not null default now(),
  primary key (project_id, scope, period_start)
);

-- The ledger's spend of a key in a period.
create index usage_records_by_key on usage_records (key_id, ts) where key_id is not null;
