-- Keys carry a role within their project (viewer < developer < admin < owner; role-matrix.ts says which
-- routes need which) and may be limited to source address ranges. Keys made before roles were
-- 'developer' in effect, platform admin keys 'owner'.
alter table api_keys
  add column role text not null default 'developer' check (role in ('viewer', 'developer', 'admin', 'owner')),
  add column allowed_ips text[];

update api_keys set role = 'owner' where admin;

alter table api_keys add constraint api_keys_admin_is_owner check (not admin or role = 'owner');
