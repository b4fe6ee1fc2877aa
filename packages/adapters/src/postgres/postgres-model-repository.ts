import {
  type AliasHistoryEntry,
  type ChangeContext,
  conflict,
  createEvent,
  EnsembleError,
  latestAlias,
  type ModelAlias,
  type ModelDescriptor,
  type ModelListOptions,
  type ModelRef,
  type ModelRepository,
  type ModelSpec,
  type ModelStatus,
  type ModelStatusChange,
  type ModelVersion,
  mergeSpec,
  modelEventKey,
  modelEventTypes,
  type NewModelVersion,
  notFound,
  type Page,
  type PublishRecord,
  parseModelRef,
  type RegisterModel,
  topics,
  type UpdateModel,
} from '@ensemble/core';
import { type Kysely, type Selectable, sql } from 'kysely';
import { appendToOutbox } from './append-to-outbox.ts';
import type { DatabaseSchema, ModelsTable, ModelVersionsTable } from './database-schema.ts';
import { lockProjectRoutes, refuseRouteName, refuseWhileRoutesTarget } from './model-route-guards.ts';
import { decodeNameCursor, encodeNameCursor } from './name-cursor.ts';

type Db = Kysely<DatabaseSchema>;
type ModelRow = Selectable<ModelsTable>;
type VersionRow = Selectable<ModelVersionsTable>;

/**
 * The model registry in PostgreSQL. Every change runs in one transaction that first locks the
 * model's row, so version numbers, alias moves and their history are serialised per model, and
 * writes its lifecycle events to the outbox in that same transaction.
 */
export class PostgresModelRepository implements ModelRepository {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async list(options: ModelListOptions): Promise<Page<ModelDescriptor>> {
    // Each model is shown at the version its bare name resolves to: `latest` if set, else the newest.
    const resolved = sql<number>`coalesce((select a.version from model_aliases a where a.model_id = m.id and a.alias = ${latestAlias}), m.latest_version)`;
    let query = this.#db
      .selectFrom('models as m')
      .innerJoin('model_versions as v', (join) => join.onRef('v.model_id', '=', 'm.id').on('v.version', '=', resolved))
      .selectAll('v')
      .select([
        'm.id',
        'm.project_id',
        'm.name',
        'm.kind',
        'm.description',
        'm.tags',
        'm.status',
        'm.latest_version',
        'm.created_at as model_created_at',
        'm.updated_at as model_updated_at',
      ])
      .orderBy('m.project_id')
      .orderBy('m.name')
      .limit(options.limit + 1);
    if (options.projectId !== undefined) query = query.where('m.project_id', '=', options.projectId);
    if (options.kind !== undefined) query = query.where('m.kind', '=', options.kind);
    if (options.status !== undefined) query = query.where('m.status', '=', options.status);
    if (options.provider !== undefined) query = query.where('v.provider', '=', options.provider);
    if (options.tag !== undefined) query = query.where(sql<boolean>`m.tags @> array[${options.tag}]::text[]`);
    if (options.after !== undefined) {
      const cursor = decodeNameCursor(options.after);
      query = query.where((eb) =>
        eb(eb.refTuple('m.project_id', 'm.name'), '>', eb.tuple(cursor.projectId, cursor.name)),
      );
    }
    const rows = await query.execute();
    const page = rows.slice(0, options.limit);
    const aliases = await this.#aliasMaps(
      this.#db,
      page.map((row) => row.id),
    );
    const items = page.map((row) =>
      toDescriptor(
        {
          id: row.id,
          project_id: row.project_id,
          name: row.name,
          kind: row.kind,
          description: row.description,
          tags: row.tags,
          status: row.status,
          latest_version: row.latest_version,
          created_at: row.model_created_at,
          updated_at: row.model_updated_at,
        },
        toVersion(row),
        aliases.get(row.id) ?? {},
      ),
    );
    const last = items.at(-1);
    return rows.length > options.limit && last
      ? { items, nextCursor: encodeNameCursor({ projectId: last.projectId, name: last.name }) }
      : { items };
  }

  async resolve(projectId: string, ref: string | ModelRef): Promise<ModelDescriptor> {
    const { name, selector } = typeof ref === 'string' ? parseModelRef(ref, 'name') : ref;
    const model = await findModel(this.#db, projectId, name);
    let version: number;
    if (selector.kind === 'version') {
      version = selector.version;
    } else {
      const alias = selector.kind === 'alias' ? selector.alias : latestAlias;
      const row = await this.#db
        .selectFrom('model_aliases')
        .select('version')
        .where('model_id', '=', model.id)
        .where('alias', '=', alias)
        .executeTakeFirst();
      if (row === undefined && selector.kind === 'alias') throw notFound('alias', `${name}:${alias}`);
      version = row?.version ?? model.latest_version;
    }
    const versionRow = await findVersion(this.#db, model, version);
    const aliases = await this.#aliasMaps(this.#db, [model.id]);
    return toDescriptor(model, toVersion(versionRow), aliases.get(model.id) ?? {});
  }

  async register(model: RegisterModel, context: ChangeContext): Promise<ModelDescriptor> {
    return this.#db.transaction().execute(async (trx) => {
      const project = await trx
        .selectFrom('projects')
        .select('id')
        .where('id', '=', model.projectId)
        .executeTakeFirst();
      if (project === undefined) throw notFound('project', model.projectId);
      await lockProjectRoutes(trx, model.projectId);
      await refuseRouteName(trx, model.projectId, model.name);
      // ON CONFLICT DO NOTHING rather than catching 23505, which would abort the transaction.
      const row = await trx
        .insertInto('models')
        .values({
          project_id: model.projectId,
          name: model.name,
          kind: model.kind,
          description: model.description,
          tags: model.tags,
          latest_version: 1,
        })
        .onConflict((oc) => oc.columns(['project_id', 'name']).doNothing())
        .returningAll()
        .executeTakeFirst();
      if (row === undefined) throw conflict('model', model.name);
      const version = await insertVersion(trx, row.id, 1, model, context.actor);
      const events: PublishRecord[] = [
        event(row, modelEventTypes.registered, context, {
          name: row.name,
          kind: row.kind,
          provider: version.provider,
          version: 1,
          actor: context.actor,
        }),
      ];
      const aliases: Record<string, number> = {};
      for (const alias of model.aliases) {
        events.push(await moveAliasRow(trx, row, alias, 1, undefined, context));
        aliases[alias] = 1;
      }
      await appendToOutbox(trx, events);
      return toDescriptor(row, version, aliases);
    });
  }

  async update(projectId: string, name: string, patch: UpdateModel, context: ChangeContext): Promise<ModelDescriptor> {
    await this.#db.transaction().execute(async (trx) => {
      if (patch.status === 'retired') await lockProjectRoutes(trx, projectId);
      const model = await lockModel(trx, projectId, name);
      if (patch.status === 'retired' && model.status !== 'retired') {
        await refuseWhileRoutesTarget(trx, projectId, name, 'retire');
      }
      const updated = await trx
        .updateTable('models')
        .set({
          ...(patch.description === undefined ? {} : { description: patch.description }),
          ...(patch.tags === undefined ? {} : { tags: patch.tags }),
          ...(patch.status === undefined ? {} : { status: patch.status }),
          updated_at: sql`now()`,
        })
        .where('id', '=', model.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      const events: PublishRecord[] = [];
      if (patch.description !== undefined || patch.tags !== undefined) {
        events.push(
          event(updated, modelEventTypes.updated, context, {
            name,
            description: updated.description,
            tags: updated.tags,
            actor: context.actor,
          }),
        );
      }
      if (patch.status !== undefined && patch.status !== model.status) {
        await recordStatusChange(trx, model.id, model.status, patch.status, context);
        events.push(statusEvent(updated, model.status, patch.status, context));
      }
      await appendToOutbox(trx, events);
    });
    return this.resolve(projectId, { name, selector: { kind: 'default' } });
  }

  async setStatus(
    projectId: string,
    name: string,
    status: ModelStatus,
    context: ChangeContext & { reason?: string },
  ): Promise<ModelDescriptor> {
    await this.#db.transaction().execute(async (trx) => {
      if (status === 'retired') await lockProjectRoutes(trx, projectId);
      const model = await lockModel(trx, projectId, name);
      if (model.status === status) return;
      if (status === 'retired') await refuseWhileRoutesTarget(trx, projectId, name, 'retire');
      const updated = await trx
        .updateTable('models')
        .set({ status, updated_at: sql`now()` })
        .where('id', '=', model.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await recordStatusChange(trx, model.id, model.status, status, context);
      await appendToOutbox(trx, [statusEvent(updated, model.status, status, context)]);
    });
    return this.resolve(projectId, { name, selector: { kind: 'default' } });
  }

  async purge(projectId: string, name: string, context: ChangeContext): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      await lockProjectRoutes(trx, projectId);
      const model = await lockModel(trx, projectId, name);
      await refuseWhileRoutesTarget(trx, projectId, name, 'delete');
      await trx.deleteFrom('models').where('id', '=', model.id).execute();
      await appendToOutbox(trx, [event(model, modelEventTypes.purged, context, { name, actor: context.actor })]);
    });
  }

  async listVersions(
    projectId: string,
    name: string,
    options: { limit: number; after?: number },
  ): Promise<Page<ModelVersion>> {
    const model = await findModel(this.#db, projectId, name);
    let query = this.#db
      .selectFrom('model_versions')
      .selectAll()
      .where('model_id', '=', model.id)
      .orderBy('version', 'desc')
      .limit(options.limit + 1);
    if (options.after !== undefined) query = query.where('version', '<', options.after);
    const rows = await query.execute();
    const items = rows.slice(0, options.limit).map(toVersion);
    const last = items.at(-1);
    return rows.length > options.limit && last ? { items, nextCursor: String(last.version) } : { items };
  }

  async getVersion(projectId: string, name: string, version: number): Promise<ModelVersion> {
    const model = await findModel(this.#db, projectId, name);
    return toVersion(await findVersion(this.#db, model, version));
  }

  async createVersion(
    projectId: string,
    name: string,
    change: NewModelVersion,
    context: ChangeContext,
  ): Promise<ModelVersion> {
    return this.#db.transaction().execute(async (trx) => {
      const model = await lockModel(trx, projectId, name);
      if (model.status === 'retired') {
        throw new EnsembleError('conflict', `model '${name}' is retired; purge it or register another name`, {
          details: { model: name },
        });
      }
      const base = toVersion(await findVersion(trx, model, change.from ?? model.latest_version, 'body.from'));
      const next = model.latest_version + 1;
      const version = await insertVersion(trx, model.id, next, mergeSpec(base, change), context.actor);
      await trx
        .updateTable('models')
        .set({ latest_version: next, updated_at: sql`now()` })
        .where('id', '=', model.id)
        .execute();
      const events: PublishRecord[] = [
        event(model, modelEventTypes.versionCreated, context, {
          name,
          version: next,
          provider: version.provider,
          actor: context.actor,
        }),
      ];
      for (const alias of change.aliases) {
        events.push(await moveAliasRow(trx, model, alias, next, undefined, context));
      }
      await appendToOutbox(trx, events);
      return version;
    });
  }

  async listAliases(projectId: string, name: string): Promise<ModelAlias[]> {
    const model = await findModel(this.#db, projectId, name);
    const rows = await this.#db
      .selectFrom('model_aliases')
      .selectAll()
      .where('model_id', '=', model.id)
      .orderBy('alias')
      .execute();
    return rows.map((row) => ({
      alias: row.alias,
      version: row.version,
      updatedAt: row.updated_at,
      updatedBy: row.updated_by,
    }));
  }

  async moveAlias(
    projectId: string,
    name: string,
    alias: string,
    version: number,
    context: ChangeContext & { expectedVersion?: number | null },
  ): Promise<ModelAlias> {
    return this.#db.transaction().execute(async (trx) => {
      const model = await lockModel(trx, projectId, name);
      await findVersion(trx, model, version, 'body.version');
      const record = await moveAliasRow(trx, model, alias, version, context.expectedVersion, context);
      await appendToOutbox(trx, [record]);
      const row = await trx
        .selectFrom('model_aliases')
        .selectAll()
        .where('model_id', '=', model.id)
        .where('alias', '=', alias)
        .executeTakeFirstOrThrow();
      return { alias, version: row.version, updatedAt: row.updated_at, updatedBy: row.updated_by };
    });
  }

  async replaceAliases(
    projectId: string,
    name: string,
    aliases: Record<string, number>,
    context: ChangeContext,
  ): Promise<ModelAlias[]> {
    await this.#db.transaction().execute(async (trx) => {
      const model = await lockModel(trx, projectId, name);
      const current = await trx
        .selectFrom('model_aliases')
        .select(['alias', 'version'])
        .where('model_id', '=', model.id)
        .execute();
      const events: Array<PublishRecord | undefined> = [];
      for (const [alias, version] of Object.entries(aliases)) {
        await findVersion(trx, model, version, `body.${alias}`);
        if (current.find((row) => row.alias === alias)?.version === version) continue;
        events.push(await moveAliasRow(trx, model, alias, version, undefined, context));
      }
      for (const row of current) {
        if (!Object.hasOwn(aliases, row.alias)) events.push(await deleteAliasRow(trx, model, row.alias, context));
      }
      await appendToOutbox(trx, events.filter(isRecord));
    });
    return this.listAliases(projectId, name);
  }

  async deleteAlias(projectId: string, name: string, alias: string, context: ChangeContext): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      const model = await lockModel(trx, projectId, name);
      const record = await deleteAliasRow(trx, model, alias, context);
      if (record === undefined) throw notFound('alias', `${name}:${alias}`);
      await appendToOutbox(trx, [record]);
    });
  }

  async aliasHistory(
    projectId: string,
    name: string,
    alias: string,
    options: { limit: number },
  ): Promise<AliasHistoryEntry[]> {
    const model = await findModel(this.#db, projectId, name);
    const rows = await this.#db
      .selectFrom('model_alias_history')
      .selectAll()
      .where('model_id', '=', model.id)
      .where('alias', '=', alias)
      .orderBy('id', 'desc')
      .limit(options.limit)
      .execute();
    if (rows.length === 0) throw notFound('alias', `${name}:${alias}`);
    return rows.map((row) => ({
      alias: row.alias,
      fromVersion: row.from_version,
      toVersion: row.to_version,
      actor: row.actor,
      at: row.at,
    }));
  }

  async statusHistory(projectId: string, name: string, options: { limit: number }): Promise<ModelStatusChange[]> {
    const model = await findModel(this.#db, projectId, name);
    const rows = await this.#db
      .selectFrom('model_status_history')
      .selectAll()
      .where('model_id', '=', model.id)
      .orderBy('id', 'desc')
      .limit(options.limit)
      .execute();
    return rows.map((row) => ({
      from: row.from_status as ModelStatus,
      to: row.to_status as ModelStatus,
      reason: row.reason,
      actor: row.actor,
      at: row.at,
    }));
  }

  async #aliasMaps(db: Db, modelIds: readonly string[]): Promise<Map<string, Record<string, number>>> {
    const maps = new Map<string, Record<string, number>>();
    if (modelIds.length === 0) return maps;
    const rows = await db
      .selectFrom('model_aliases')
      .select(['model_id', 'alias', 'version'])
      .where('model_id', 'in', modelIds)
      .orderBy('alias')
      .execute();
    for (const row of rows) {
      const map = maps.get(row.model_id) ?? {};
      map[row.alias] = row.version;
      maps.set(row.model_id, map);
    }
    return maps;
  }
}

async function findModel(db: Db, projectId: string, name: string): Promise<ModelRow> {
  const row = await db
    .selectFrom('models')
    .selectAll()
    .where('project_id', '=', projectId)
    .where('name', '=', name)
    .executeTakeFirst();
  if (row === undefined) throw notFound('model', name);
  return row;
}

/** The model's row, locked until the transaction ends: changes to one model happen one at a time. */
async function lockModel(trx: Db, projectId: string, name: string): Promise<ModelRow> {
  const row = await trx
    .selectFrom('models')
    .selectAll()
    .where('project_id', '=', projectId)
    .where('name', '=', name)
    .forUpdate()
    .executeTakeFirst();
  if (row === undefined) throw notFound('model', name);
  return row;
}

async function findVersion(db: Db, model: ModelRow, version: number, field?: string): Promise<VersionRow> {
  const row = await db
    .selectFrom('model_versions')
    .selectAll()
    .where('model_id', '=', model.id)
    .where('version', '=', version)
    .executeTakeFirst();
  if (row === undefined) {
    throw new EnsembleError('not_found', `version '${model.name}@${version}' does not exist`, {
      ...(field === undefined ? {} : { field }),
      details: { model: model.name, version, latestVersion: model.latest_version },
    });
  }
  return row;
}

async function insertVersion(
  trx: Db,
  modelId: string,
  version: number,
  spec: ModelSpec,
  actor: string,
): Promise<ModelVersion> {
  const row = await trx
    .insertInto('model_versions')
    .values({
      model_id: modelId,
      version,
      provider: spec.provider,
      provider_model_id: spec.providerModelId,
      base_url: spec.baseUrl ?? null,
      credential: spec.credential ?? null,
      parameters: JSON.stringify(spec.parameters),
      options: JSON.stringify(spec.options),
      capabilities: JSON.stringify(spec.capabilities),
      pricing: spec.pricing === undefined ? null : JSON.stringify(spec.pricing),
      artifact: spec.artifact === undefined ? null : JSON.stringify(spec.artifact),
      created_by: actor,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toVersion(row);
}

/**
 * Points an alias at a version within the caller's transaction (the model's row is locked) and
 * records the move. `expected` makes it a compare-and-set (null: the alias must not exist yet).
 */
async function moveAliasRow(
  trx: Db,
  model: ModelRow,
  alias: string,
  version: number,
  expected: number | null | undefined,
  context: ChangeContext,
): Promise<PublishRecord> {
  const current = await trx
    .selectFrom('model_aliases')
    .select('version')
    .where('model_id', '=', model.id)
    .where('alias', '=', alias)
    .executeTakeFirst();
  const from = current?.version ?? null;
  if (expected !== undefined && expected !== from) {
    throw new EnsembleError(
      'conflict',
      `alias '${model.name}:${alias}' points at ${from ?? 'nothing'}, not ${expected ?? 'nothing'}: it moved meanwhile`,
      { field: 'body.expectedVersion', details: { alias, version: from } },
    );
  }
  await trx
    .insertInto('model_aliases')
    .values({ model_id: model.id, alias, version, updated_by: context.actor })
    .onConflict((oc) =>
      oc.columns(['model_id', 'alias']).doUpdateSet({ version, updated_by: context.actor, updated_at: sql`now()` }),
    )
    .execute();
  await trx
    .insertInto('model_alias_history')
    .values({ model_id: model.id, alias, from_version: from, to_version: version, actor: context.actor })
    .execute();
  return event(model, modelEventTypes.aliasMoved, context, {
    name: model.name,
    alias,
    from,
    to: version,
    actor: context.actor,
  });
}

async function deleteAliasRow(
  trx: Db,
  model: ModelRow,
  alias: string,
  context: ChangeContext,
): Promise<PublishRecord | undefined> {
  const deleted = await trx
    .deleteFrom('model_aliases')
    .where('model_id', '=', model.id)
    .where('alias', '=', alias)
    .returning('version')
    .executeTakeFirst();
  if (deleted === undefined) return undefined;
  await trx
    .insertInto('model_alias_history')
    .values({ model_id: model.id, alias, from_version: deleted.version, to_version: null, actor: context.actor })
    .execute();
  return event(model, modelEventTypes.aliasDeleted, context, {
    name: model.name,
    alias,
    from: deleted.version,
    to: null,
    actor: context.actor,
  });
}

/** The health history's row, in the transaction of the change (so it never disagrees with the events). */
async function recordStatusChange(
  trx: Db,
  modelId: string,
  from: string,
  to: ModelStatus,
  context: ChangeContext & { reason?: string },
): Promise<void> {
  await trx
    .insertInto('model_status_history')
    .values({
      model_id: modelId,
      from_status: from,
      to_status: to,
      reason: context.reason?.slice(0, 2_000) ?? null,
      actor: context.actor,
    })
    .execute();
}

function statusEvent(model: ModelRow, from: string, to: ModelStatus, context: ChangeContext & { reason?: string }) {
  return event(model, modelEventTypes.statusChanged, context, {
    name: model.name,
    from,
    to,
    ...(context.reason === undefined ? {} : { reason: context.reason }),
    actor: context.actor,
  });
}

function event(model: ModelRow, type: string, context: ChangeContext, data: Record<string, unknown>): PublishRecord {
  return {
    topic: topics.modelsLifecycle,
    key: modelEventKey(model.project_id, model.name),
    value: createEvent({
      type,
      projectId: model.project_id,
      data,
      ...(context.traceId === undefined ? {} : { traceId: context.traceId }),
    }),
  };
}

function isRecord(value: PublishRecord | undefined): value is PublishRecord {
  return value !== undefined;
}

function toVersion(row: VersionRow): ModelVersion {
  return {
    version: row.version,
    provider: row.provider,
    providerModelId: row.provider_model_id,
    ...(row.base_url === null ? {} : { baseUrl: row.base_url }),
    ...(row.credential === null ? {} : { credential: row.credential }),
    parameters: row.parameters,
    options: row.options,
    capabilities: row.capabilities as ModelSpec['capabilities'],
    ...(row.pricing === null ? {} : { pricing: row.pricing }),
    ...(row.artifact === null ? {} : { artifact: row.artifact }),
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}

function toDescriptor(model: ModelRow, version: ModelVersion, aliases: Record<string, number>): ModelDescriptor {
  return {
    ...version,
    projectId: model.project_id,
    name: model.name,
    kind: model.kind,
    description: model.description,
    tags: model.tags,
    status: model.status as ModelStatus,
    latestVersion: model.latest_version,
    aliases,
    registeredAt: model.created_at,
    updatedAt: model.updated_at,
  };
}
