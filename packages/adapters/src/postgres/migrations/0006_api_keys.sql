-- API keys. Only the SHA-256 of each secret is stored (decision 0008): secrets are random enough that
-- a fast hash cannot be reversed, and a lookup by hash is one index probe.
create table api_keys (
  id text primary key check (id ~ '^key_[A-Za-z0-9]{16}$'),
  project_id text not null references projects (id),
  name text not null check (length(name) between 1 and 200),
  secret_sha256 bytea not null unique check (length(secret_sha256) = 32),
  -- The secret's first characters (`ens_ab12`), enough to recognise it in a list.
  prefix text not null check (length(prefix) between 1 and 8),
  admin boolean not null default false,
  -- Model and route names the key may call; null means all of its project's.
  allowed_models text[],
  tags text[] not null default '{}',
  -- The key made at first start or from ENSEMBLE_ADMIN_KEY; at most one is live.
  bootstrap boolean not null default false,
  expires_at timestamptz,
  created_at timestamptz not null default now(),
  -- Written in batches, off the request path.
  last_used_at timestamptz,
  revoked_at timestamptz
);

create index api_keys_by_project on api_keys (project_id, created_at desc, id desc);
create unique index api_keys_one_live_bootstrap on api_keys (bootstrap) where bootstrap and revoked_at is null;
