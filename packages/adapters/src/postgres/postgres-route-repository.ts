import {
  checkRouteGraph,
  distinctTargets,
  EnsembleError,
  type NewRoute,
  type NewRouteVersion,
  notFound,
  type Page,
  parseModelRef,
  parseRoute,
  policyTargets,
  type Route,
  type RouteChangeContext,
  type RouteListOptions,
  type RoutePolicy,
  type RouteRepository,
  type RouteStatus,
  type RouteVersion,
  type StoredRoute,
  type UpdateRoute,
  validationError,
} from '@ensemble/core';
import { type Kysely, type Selectable, sql } from 'kysely';
import type { DatabaseSchema, RoutesTable, RouteVersionsTable } from './database-schema.ts';
import { lockProjectRoutes } from './model-route-guards.ts';
import { decodeNameCursor, encodeNameCursor } from './name-cursor.ts';

type Db = Kysely<DatabaseSchema>;
type RouteRow = Selectable<RoutesTable>;
type VersionRow = Selectable<RouteVersionsTable>;

/** Every committed route change NOTIFYs this channel with the project id; route lookups listen to drop their cache. */
export const routesChannel = 'ensemble_routes';

/** A problem with a policy's targets: where in the policy (`targets[1].target`) and what. */
interface TargetIssue {
  path: string;
  message: string;
}

/**
 * Routes in PostgreSQL. Writes run in one transaction holding a per-project advisory lock, so the
 * checks that span routes (loops, nesting depth, who targets a route) see every other write of the
 * project either before or after. Each write NOTIFYs `routesChannel` at commit and tells this
 * process's listeners (`onChange`) right after, so caches drop the project's entries.
 */
export class PostgresRouteRepository implements RouteRepository {
  readonly #db: Db;
  readonly #listeners = new Set<(projectId: string) => void>();

  constructor(db: Db) {
    this.#db = db;
  }

  /** Called after each committed change, with its project; returns the unsubscribe function. */
  onChange(listener: (projectId: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async list(projectId: string, options: RouteListOptions): Promise<Page<StoredRoute>> {
    let query = this.#db
      .selectFrom('routes as r')
      .innerJoin('route_versions as v', (join) =>
        join.onRef('v.route_id', '=', 'r.id').onRef('v.version', '=', 'r.current_version'),
      )
      .selectAll('r')
      .select([
        'v.version',
        'v.policy',
        'v.description',
        'v.targets',
        'v.created_by as version_created_by',
        'v.created_at as version_created_at',
      ])
      .where('r.project_id', '=', projectId)
      .orderBy('r.name')
      .limit(options.limit + 1);
    if (options.status !== undefined) query = query.where('r.status', '=', options.status);
    if (options.target !== undefined) {
      // `name` also finds `name@2` and `name:production` (names never contain '@' or ':').
      query = query.where(
        sql<boolean>`exists (select 1 from unnest(v.targets) t where split_part(split_part(t, '@', 1), ':', 1) = ${options.target})`,
      );
    }
    if (options.after !== undefined) query = query.where('r.name', '>', decodeNameCursor(options.after).name);
    const rows = await query.execute();
    const items = rows.slice(0, options.limit).map((row) =>
      toStored(
        row,
        toVersion(row.name, {
          route_id: row.id,
          version: row.version,
          policy: row.policy,
          description: row.description,
          targets: row.targets,
          created_by: row.version_created_by,
          created_at: row.version_created_at,
        }),
      ),
    );
    const last = items.at(-1);
    return rows.length > options.limit && last
      ? { items, nextCursor: encodeNameCursor({ projectId, name: last.name }) }
      : { items };
  }

  async get(projectId: string, name: string): Promise<StoredRoute> {
    const route = await findRoute(this.#db, projectId, name);
    return toStored(route, toVersion(name, await findVersion(this.#db, route, route.current_version)));
  }

  async create(projectId: string, input: NewRoute, context: RouteChangeContext): Promise<StoredRoute> {
    const stored = await this.#write(projectId, async (trx) => {
      const project = await trx.selectFrom('projects').select('id').where('id', '=', projectId).executeTakeFirst();
      if (project === undefined) throw notFound('project', projectId);
      await refuseModelName(trx, projectId, input.name, context);
      const route = await trx
        .insertInto('routes')
        .values({
          project_id: projectId,
          name: input.name,
          current_version: 1,
          latest_version: 1,
          updated_by: context.actor,
        })
        .onConflict((oc) => oc.columns(['project_id', 'name']).doNothing())
        .returningAll()
        .executeTakeFirst();
      if (route === undefined) {
        throw new EnsembleError('conflict', `route '${input.name}' already exists; add a version to change it`, {
          field: join(context.field, 'name'),
          details: { route: input.name },
        });
      }
      throwIssues(await checkPolicy(trx, projectId, input.name, input.policy), join(context.field, 'policy'));
      const version = await insertVersion(trx, route.id, 1, input.policy, input.description, context.actor);
      return toStored(route, toVersion(route.name, version));
    });
    return stored;
  }

  async addVersion(
    projectId: string,
    name: string,
    input: NewRouteVersion,
    context: RouteChangeContext,
  ): Promise<StoredRoute> {
    return this.#write(projectId, async (trx) => {
      const route = await lockRoute(trx, projectId, name);
      if (route.status === 'retired') {
        throw new EnsembleError(
          'conflict',
          `route '${name}' is retired; make it active (PATCH status: active) before adding versions`,
          { details: { route: name, status: route.status } },
        );
      }
      throwIssues(await checkPolicy(trx, projectId, name, input.policy), join(context.field, 'policy'));
      const current = await findVersion(trx, route, route.current_version);
      const next = route.latest_version + 1;
      const version = await insertVersion(
        trx,
        route.id,
        next,
        input.policy,
        input.description ?? current.description,
        context.actor,
      );
      const updated = await trx
        .updateTable('routes')
        .set({ current_version: next, latest_version: next, updated_at: sql`now()`, updated_by: context.actor })
        .where('id', '=', route.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      return toStored(updated, toVersion(name, version));
    });
  }

  async listVersions(
    projectId: string,
    name: string,
    options: { limit: number; after?: number },
  ): Promise<Page<RouteVersion>> {
    const route = await findRoute(this.#db, projectId, name);
    let query = this.#db
      .selectFrom('route_versions')
      .selectAll()
      .where('route_id', '=', route.id)
      .orderBy('version', 'desc')
      .limit(options.limit + 1);
    if (options.after !== undefined) query = query.where('version', '<', options.after);
    const rows = await query.execute();
    const items = rows.slice(0, options.limit).map((row) => toVersion(name, row));
    const last = items.at(-1);
    return rows.length > options.limit && last ? { items, nextCursor: String(last.version) } : { items };
  }

  async getVersion(projectId: string, name: string, version: number): Promise<RouteVersion> {
    const route = await findRoute(this.#db, projectId, name);
    return toVersion(name, await findVersion(this.#db, route, version));
  }

  async update(projectId: string, name: string, patch: UpdateRoute, context: RouteChangeContext): Promise<StoredRoute> {
    return this.#write(projectId, async (trx) => {
      const route = await lockRoute(trx, projectId, name);
      if (patch.expectedCurrentVersion !== undefined && patch.expectedCurrentVersion !== route.current_version) {
        throw new EnsembleError(
          'conflict',
          `route '${name}' is at version ${route.current_version}, not ${patch.expectedCurrentVersion}: it changed meanwhile`,
          {
            field: join(context.field, 'expectedCurrentVersion'),
            details: { route: name, currentVersion: route.current_version },
          },
        );
      }
      const status: RouteStatus = patch.status ?? (route.status as RouteStatus);
      const currentVersion = patch.currentVersion ?? route.current_version;
      const version = await findVersion(trx, route, currentVersion, join(context.field, 'currentVersion'));
      const reactivated = status === 'active' && route.status !== 'active';
      if (status === 'active' && (reactivated || currentVersion !== route.current_version)) {
        if (reactivated) await refuseModelName(trx, projectId, name, context);
        const policy = parseStoredPolicy(name, version);
        const issues = await checkPolicy(trx, projectId, name, policy);
        const field = join(context.field, patch.currentVersion === undefined ? 'status' : 'currentVersion');
        throwIssues(
          issues.map((issue) => ({
            path: field,
            message: `version ${currentVersion}'s policy.${issue.path} ${issue.message}`,
          })),
        );
      }
      if (status === 'retired' && route.status === 'active') {
        await refuseWhileTargeted(trx, projectId, name, 'retire');
      }
      const updated = await trx
        .updateTable('routes')
        .set({ status, current_version: currentVersion, updated_at: sql`now()`, updated_by: context.actor })
        .where('id', '=', route.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      return toStored(updated, toVersion(name, version));
    });
  }

  async purge(projectId: string, name: string, _context: RouteChangeContext): Promise<void> {
    await this.#write(projectId, async (trx) => {
      const route = await lockRoute(trx, projectId, name);
      await refuseWhileTargeted(trx, projectId, name, 'delete');
      await trx.deleteFrom('routes').where('id', '=', route.id).execute();
    });
  }

  async current(projectId: string, name: string): Promise<Route | undefined> {
    const row = await this.#currentQuery(projectId).where('r.name', '=', name).executeTakeFirst();
    return row === undefined ? undefined : readRoute(row);
  }

  async currentAll(projectId: string): Promise<Route[]> {
    const rows = await this.#currentQuery(projectId).orderBy('r.name').execute();
    return rows.map(readRoute);
  }

  #currentQuery(projectId: string) {
    return this.#db
      .selectFrom('routes as r')
      .innerJoin('route_versions as v', (join) =>
        join.onRef('v.route_id', '=', 'r.id').onRef('v.version', '=', 'r.current_version'),
      )
      .select(['r.name', 'v.version', 'v.policy', 'v.description'])
      .where('r.project_id', '=', projectId)
      .where('r.status', '=', 'active');
  }

  /** One write: a transaction holding the project's route lock, a NOTIFY at commit, then local listeners. */
  async #write<T>(projectId: string, work: (trx: Db) => Promise<T>): Promise<T> {
    const result = await this.#db.transaction().execute(async (trx) => {
      await lockProjectRoutes(trx, projectId);
      const value = await work(trx);
      await sql`select pg_notify(${routesChannel}, ${projectId})`.execute(trx);
      return value;
    });
    for (const listener of this.#listeners) {
      try {
        listener(projectId);
      } catch {
        // A listener's failure is its own; the change is committed.
      }
    }
    return result;
  }
}

function join(root: string | undefined, field: string): string {
  return root === undefined || root === '' ? field : `${root}.${field}`;
}

function throwIssues(issues: readonly TargetIssue[], root?: string): void {
  const located = issues.map((issue) => ({
    path: root === undefined ? issue.path : join(root, issue.path),
    message: issue.message,
  }));
  const first = located[0];
  if (first !== undefined) throw validationError(first.path, first.message, { issues: located });
}

async function findRoute(db: Db, projectId: string, name: string): Promise<RouteRow> {
  const row = await db
    .selectFrom('routes')
    .selectAll()
    .where('project_id', '=', projectId)
    .where('name', '=', name)
    .executeTakeFirst();
  if (row === undefined) throw notFound('route', name);
  return row;
}

async function lockRoute(trx: Db, projectId: string, name: string): Promise<RouteRow> {
  const row = await trx
    .selectFrom('routes')
    .selectAll()
    .where('project_id', '=', projectId)
    .where('name', '=', name)
    .forUpdate()
    .executeTakeFirst();
  if (row === undefined) throw notFound('route', name);
  return row;
}

async function findVersion(db: Db, route: RouteRow, version: number, field?: string): Promise<VersionRow> {
  const row = await db
    .selectFrom('route_versions')
    .selectAll()
    .where('route_id', '=', route.id)
    .where('version', '=', version)
    .executeTakeFirst();
  if (row === undefined) {
    throw new EnsembleError('not_found', `version '${route.name}@${version}' does not exist`, {
      ...(field === undefined ? {} : { field }),
      details: { route: route.name, version, latestVersion: route.latest_version },
    });
  }
  return row;
}

async function insertVersion(
  trx: Db,
  routeId: string,
  version: number,
  policy: RoutePolicy,
  description: string,
  actor: string,
): Promise<VersionRow> {
  return trx
    .insertInto('route_versions')
    .values({
      route_id: routeId,
      version,
      policy: JSON.stringify(policy),
      description,
      targets: distinctTargets(policy),
      created_by: actor,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The gateway tries a name as a route before a model, so a route must not take a model's name. */
async function refuseModelName(trx: Db, projectId: string, name: string, context: RouteChangeContext): Promise<void> {
  const model = await trx
    .selectFrom('models')
    .select('name')
    .where('project_id', '=', projectId)
    .where('name', '=', name)
    .executeTakeFirst();
  if (model !== undefined) {
    throw new EnsembleError(
      'conflict',
      `a model named '${name}' exists in project '${projectId}': a route of that name would hide it in /v1, so choose another name`,
      { field: join(context.field, 'name'), details: { model: name } },
    );
  }
}

/** Active routes whose current version targets `name`: retiring or deleting it would break them. */
async function refuseWhileTargeted(trx: Db, projectId: string, name: string, action: string): Promise<void> {
  const rows = await trx
    .selectFrom('routes as r')
    .innerJoin('route_versions as v', (join) =>
      join.onRef('v.route_id', '=', 'r.id').onRef('v.version', '=', 'r.current_version'),
    )
    .select('r.name')
    .where('r.project_id', '=', projectId)
    .where('r.status', '=', 'active')
    .where('r.name', '<>', name)
    .where(sql<boolean>`v.targets @> array[${name}]::text[]`)
    .orderBy('r.name')
    .execute();
  if (rows.length === 0) return;
  const names = rows.map((row) => row.name);
  throw new EnsembleError(
    'conflict',
    `cannot ${action} route '${name}': route(s) ${names.map((n) => `'${n}'`).join(', ')} target it; change them first`,
    { details: { route: name, targetedBy: names } },
  );
}

/**
 * What a policy's targets point at, checked against the project: every target names an existing model
 * (its version or alias when given) or an active route, never the route itself, and the routes stay
 * free of loops and not nested deeper than the gateway follows. Paths are inside the policy.
 */
async function checkPolicy(trx: Db, projectId: string, name: string, policy: RoutePolicy): Promise<TargetIssue[]> {
  const cacheIssue = await checkSemanticCacheModel(trx, projectId, policy);
  if (cacheIssue !== undefined) return [cacheIssue];
  const targets = policyTargets(policy).map((each) => ({ ...each, ref: parseModelRef(each.target, 'target') }));
  const names = [...new Set(targets.map((each) => each.ref.name))];
  const [routes, models, versions, aliases] = await Promise.all([
    trx
      .selectFrom('routes')
      .select(['name', 'status'])
      .where('project_id', '=', projectId)
      .where('name', 'in', names)
      .execute(),
    trx
      .selectFrom('models')
      .select(['name', 'status'])
      .where('project_id', '=', projectId)
      .where('name', 'in', names)
      .execute(),
    targets.some((each) => each.ref.selector.kind === 'version')
      ? trx
          .selectFrom('models as m')
          .innerJoin('model_versions as v', 'v.model_id', 'm.id')
          .select(['m.name', 'v.version'])
          .where('m.project_id', '=', projectId)
          .where('m.name', 'in', names)
          .execute()
      : [],
    targets.some((each) => each.ref.selector.kind === 'alias')
      ? trx
          .selectFrom('models as m')
          .innerJoin('model_aliases as a', 'a.model_id', 'm.id')
          .select(['m.name', 'a.alias'])
          .where('m.project_id', '=', projectId)
          .where('m.name', 'in', names)
          .execute()
      : [],
  ]);
  const routeStatus = new Map(routes.map((row) => [row.name, row.status]));
  const modelStatus = new Map(models.map((row) => [row.name, row.status]));
  const issues: TargetIssue[] = [];
  for (const { path, target, ref } of targets) {
    const problem = targetProblem(projectId, name, target, ref, { routeStatus, modelStatus, versions, aliases });
    if (problem !== undefined) issues.push({ path, message: problem });
  }
  if (issues.length > 0) return issues;

  const graphRows = await trx
    .selectFrom('routes as r')
    .innerJoin('route_versions as v', (join) =>
      join.onRef('v.route_id', '=', 'r.id').onRef('v.version', '=', 'r.current_version'),
    )
    .select(['r.name', 'v.targets'])
    .where('r.project_id', '=', projectId)
    .where('r.status', '=', 'active')
    .execute();
  const graph = new Map(graphRows.map((row) => [row.name, row.targets]));
  const problem = checkRouteGraph(graph, name, distinctTargets(policy));
  if (problem === undefined) return [];
  const blamed = targets.find((each) => each.target === problem.target);
  return [{ path: blamed?.path ?? '', message: problem.message }];
}

/** A semantic cache's embedding model is an embedding model of the project, not retired (its version is resolved when used). */
async function checkSemanticCacheModel(
  trx: Db,
  projectId: string,
  policy: RoutePolicy,
): Promise<TargetIssue | undefined> {
  const ref = policy.semanticCache?.embeddingModel;
  if (ref === undefined) return undefined;
  const path = 'semanticCache.embeddingModel';
  let modelName: string;
  try {
    modelName = parseModelRef(ref, 'embeddingModel').name;
  } catch (error) {
    return { path, message: (error as Error).message.replace(/^embeddingModel: /, '') };
  }
  const model = await trx
    .selectFrom('models')
    .select(['kind', 'status'])
    .where('project_id', '=', projectId)
    .where('name', '=', modelName)
    .executeTakeFirst();
  if (model === undefined) return { path, message: `names no model of project '${projectId}': '${ref}'` };
  if (model.kind !== 'embedding')
    return { path, message: `'${modelName}' is a ${model.kind} model, not an embedding model` };
  if (model.status === 'retired') return { path, message: `names model '${modelName}', which is retired` };
  return undefined;
}

interface Known {
  routeStatus: ReadonlyMap<string, string>;
  modelStatus: ReadonlyMap<string, string>;
  versions: readonly { name: string; version: number }[];
  aliases: readonly { name: string; alias: string }[];
}

function targetProblem(
  projectId: string,
  self: string,
  target: string,
  ref: ReturnType<typeof parseModelRef>,
  known: Known,
): string | undefined {
  const { selector } = ref;
  const model = known.modelStatus.get(ref.name);
  if (selector.kind === 'default') {
    if (ref.name === self) return 'cannot be the route itself';
    const route = known.routeStatus.get(ref.name);
    if (route === 'active') return undefined;
    if (route !== undefined) return `names route '${ref.name}', which is retired`;
    if (model === 'retired') return `names model '${ref.name}', which is retired`;
    if (model !== undefined) return undefined;
    return `names no model or route of project '${projectId}': '${target}'`;
  }
  if (model === undefined) {
    const isRoute = known.routeStatus.has(ref.name);
    return isRoute
      ? `'${ref.name}' is a route: routes are called by their bare name, without @version or :alias`
      : `names no model of project '${projectId}': '${ref.name}'`;
  }
  if (selector.kind === 'version') {
    const exists = known.versions.some((row) => row.name === ref.name && row.version === selector.version);
    return exists ? undefined : `model '${ref.name}' has no version ${selector.version}`;
  }
  const exists = known.aliases.some((row) => row.name === ref.name && row.alias === selector.alias);
  return exists ? undefined : `model '${ref.name}' has no alias '${selector.alias}'`;
}

function parseStoredPolicy(name: string, row: VersionRow): RoutePolicy {
  return readRoute({ name, version: row.version, policy: row.policy, description: row.description }).policy;
}

/** Stored policies are parsed again when read: a row that no longer validates is our fault, not the caller's. */
function readRoute(row: { name: string; version: number; policy: unknown; description: string }): Route {
  try {
    return parseRoute(row, 'route');
  } catch (error) {
    throw new EnsembleError(
      'internal_error',
      `route '${row.name}@${row.version}' in PostgreSQL does not validate: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

function toVersion(name: string, row: VersionRow): RouteVersion {
  return {
    version: row.version,
    policy: parseStoredPolicy(name, row),
    description: row.description,
    targets: row.targets,
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}

function toStored(route: RouteRow, current: RouteVersion): StoredRoute {
  return {
    projectId: route.project_id,
    name: route.name,
    status: route.status as RouteStatus,
    currentVersion: route.current_version,
    latestVersion: route.latest_version,
    current,
    createdAt: route.created_at,
    updatedAt: route.updated_at,
    updatedBy: route.updated_by,
  };
}
