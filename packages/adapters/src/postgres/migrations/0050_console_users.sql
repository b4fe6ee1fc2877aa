-- Console users (docs/security.md, decision 0033): accounts are platform-wide (one email, one password),
-- their access is a role per project, like a key's. A password is stored as its scrypt hash with the
-- parameters it was made with (`scrypt$N$r$p$salt$hash`), so the cost can be raised later.
create table users (
  id text primary key,
  -- Lower-cased before it is stored: one account per address, whatever its case.
  email text not null unique,
  name text,
  password_hash text,
  -- Owner in every project and the platform routes, like a platform admin key.
  platform_admin boolean not null default false,
  -- Set by OpenID Connect sign-in: the issuer and subject an account is matched by.
  oidc_issuer text,
  oidc_subject text,
  created_at timestamptz not null default now(),
  disabled_at timestamptz,
  last_login_at timestamptz,
  unique (oidc_issuer, oidc_subject)
);

create table user_memberships (
  user_id text not null references users (id),
  project_id text not null references projects (id),
  role text not null check (role in ('viewer', 'developer', 'admin', 'owner')),
  created_at timestamptz not null default now(),
  primary key (user_id, project_id)
);
create index user_memberships_by_project on user_memberships (project_id, user_id);

-- Console sessions: only the SHA-256 of the cookie's secret is kept, so a copy of the table opens nothing.
create table user_sessions (
  secret_sha256 bytea primary key,
  user_id text not null references users (id),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  revoked_at timestamptz,
  source_ip text
);
create index user_sessions_by_user on user_sessions (user_id);

-- Failed sign-ins and API key attempts, counted in fixed windows shared by every instance:
-- scope 'login-account' (subject: the email), 'login-address' and 'key-address' (subject: the address).
create table auth_failures (
  scope text not null,
  subject text not null,
  window_start timestamptz not null,
  failures integer not null,
  primary key (scope, subject)
);

-- Who made an administrative change through a console session (actor_key_id is null then).
alter table audit_log add column actor_user_id text;
