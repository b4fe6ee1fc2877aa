import { EnsembleError } from '@ensemble/core';
import { type Kysely, sql } from 'kysely';
import { advisoryLockKey } from './advisory-lock-key.ts';
import type { DatabaseSchema } from './database-schema.ts';

type Db = Kysely<DatabaseSchema>;

/**
 * Models and routes share one namespace per project (clients send either in `model`), and routes
 * point at models. These checks keep both true from the models' side; they hold the project's route
 * lock, the one every route write holds, so a route created or changed at the same moment is seen.
 */
export async function lockProjectRoutes(trx: Db, projectId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(${advisoryLockKey('ensemble', 'routes', projectId)}::bigint)`.execute(trx);
}

/** A model named like a route would never be reached through /v1: the route wins the lookup. */
export async function refuseRouteName(trx: Db, projectId: string, name: string): Promise<void> {
  const route = await trx
    .selectFrom('routes')
    .select('name')
    .where('project_id', '=', projectId)
    .where('name', '=', name)
    .executeTakeFirst();
  if (route === undefined) return;
  throw new EnsembleError(
    'conflict',
    `a route named '${name}' exists in project '${projectId}': a model of that name would be hidden by it in /v1, so choose another name`,
    { field: 'name', details: { route: name } },
  );
}

/** Active routes whose current version calls `model` (any version or alias of it): retiring or deleting it would break them. */
export async function refuseWhileRoutesTarget(
  trx: Db,
  projectId: string,
  model: string,
  action: string,
): Promise<void> {
  const rows = await trx
    .selectFrom('routes as r')
    .innerJoin('route_versions as v', (join) =>
      join.onRef('v.route_id', '=', 'r.id').onRef('v.version', '=', 'r.current_version'),
    )
    .select('r.name')
    .where('r.project_id', '=', projectId)
    .where('r.status', '=', 'active')
    .where(
      sql<boolean>`exists (select 1 from unnest(v.targets) t where split_part(split_part(t, '@', 1), ':', 1) = ${model})`,
    )
    .orderBy('r.name')
    .execute();
  if (rows.length === 0) return;
  const names = rows.map((row) => row.name);
  throw new EnsembleError(
    'conflict',
    `cannot ${action} model '${model}': route(s) ${names.map((n) => `'${n}'`).join(', ')} call it; change them first`,
    { details: { model, targetedBy: names } },
  );
}
