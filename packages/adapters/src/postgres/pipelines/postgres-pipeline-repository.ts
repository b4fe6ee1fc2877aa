import {
  conflict,
  EnsembleError,
  notFound,
  type Page,
  type PipelineDefinition,
  type PipelineRepository,
  type PipelineRollout,
  type PipelineVersion,
  parsePipelineRef,
  type ResolvedPipeline,
  type StoredPipeline,
} from '@ensemble/core';
import type pg from 'pg';
import { withDatabaseErrors } from '../database-errors.ts';

interface PipelineRow {
  project_id: string;
  name: string;
  description: string;
  latest_version: number;
  rollout: PipelineRollout | null;
  created_at: Date;
  updated_at: Date;
  aliases: Record<string, number> | null;
}

interface VersionRow {
  name: string;
  version: number;
  definition: PipelineDefinition;
  description: string;
  created_by: string;
  created_at: Date;
}

const pipelineColumns = `p.*, (select jsonb_object_agg(a.alias, a.version) from pipeline_aliases a
  where a.project_id = p.project_id and a.name = p.name) as aliases`;

/**
 * Pipelines in PostgreSQL: a row per name, immutable versions (a trigger refuses updates), aliases.
 * A new version is numbered under the pipeline row's lock, so two saves at once get 2 and 3.
 */
export class PostgresPipelineRepository implements PipelineRepository {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async create(
    projectId: string,
    name: string,
    definition: PipelineDefinition,
    description: string,
    actor: string,
  ): Promise<PipelineVersion> {
    return this.#transaction(async (client) => {
      const inserted = await client.query(
        `insert into pipelines (project_id, name, description, latest_version) values ($1, $2, $3, 1)
         on conflict do nothing`,
        [projectId, name, description],
      );
      if (inserted.rowCount === 0) throw conflict('pipeline', name);
      return insertVersion(client, projectId, name, 1, definition, description, actor);
    });
  }

  async addVersion(
    projectId: string,
    name: string,
    definition: PipelineDefinition,
    description: string | undefined,
    actor: string,
  ): Promise<PipelineVersion> {
    return this.#transaction(async (client) => {
      const { rows } = await client.query<{ latest_version: number; description: string }>(
        `update pipelines set latest_version = latest_version + 1, updated_at = now(),
           description = coalesce($3, description)
         where project_id = $1 and name = $2 returning latest_version, description`,
        [projectId, name, description ?? null],
      );
      const row = rows[0];
      if (row === undefined) throw notFound('pipeline', name);
      return insertVersion(client, projectId, name, row.latest_version, definition, row.description, actor);
    });
  }

  async get(projectId: string, name: string): Promise<StoredPipeline | undefined> {
    const { rows } = await this.#query<PipelineRow>(
      `select ${pipelineColumns} from pipelines p where p.project_id = $1 and p.name = $2`,
      [projectId, name],
    );
    return rows[0] === undefined ? undefined : toPipeline(rows[0]);
  }

  async list(projectId: string, options: { limit: number; after?: string | undefined }): Promise<Page<StoredPipeline>> {
    const { rows } = await this.#query<PipelineRow>(
      `select ${pipelineColumns} from pipelines p where p.project_id = $1 and ($2::text is null or p.name > $2)
       order by p.name limit $3`,
      [projectId, options.after ?? null, options.limit + 1],
    );
    const items = rows.slice(0, options.limit).map(toPipeline);
    const last = items.at(-1);
    return rows.length > options.limit && last !== undefined ? { items, nextCursor: last.name } : { items };
  }

  async versions(projectId: string, name: string): Promise<PipelineVersion[]> {
    const { rows } = await this.#query<VersionRow>(
      'select * from pipeline_versions where project_id = $1 and name = $2 order by version desc limit 100',
      [projectId, name],
    );
    return rows.map(toVersion);
  }

  async version(projectId: string, name: string, version: number): Promise<PipelineVersion | undefined> {
    const { rows } = await this.#query<VersionRow>(
      'select * from pipeline_versions where project_id = $1 and name = $2 and version = $3',
      [projectId, name, version],
    );
    return rows[0] === undefined ? undefined : toVersion(rows[0]);
  }

  async setAlias(projectId: string, name: string, alias: string, version: number): Promise<void> {
    if ((await this.version(projectId, name, version)) === undefined) {
      throw new EnsembleError('not_found', `pipeline '${name}' has no version ${version}`, { field: 'body.version' });
    }
    await this.#query(
      `insert into pipeline_aliases (project_id, name, alias, version) values ($1, $2, $3, $4)
       on conflict (project_id, name, alias) do update set version = excluded.version, updated_at = now()`,
      [projectId, name, alias, version],
    );
  }

  async deleteAlias(projectId: string, name: string, alias: string): Promise<void> {
    const result = await this.#query(
      'delete from pipeline_aliases where project_id = $1 and name = $2 and alias = $3',
      [projectId, name, alias],
    );
    if (result.rowCount === 0) throw notFound('alias', `${name}:${alias}`);
  }

  async setRollout(projectId: string, name: string, rollout: PipelineRollout | null): Promise<void> {
    for (const version of [rollout?.canary?.version, rollout?.shadow?.version]) {
      if (version !== undefined && (await this.version(projectId, name, version)) === undefined) {
        throw new EnsembleError('not_found', `pipeline '${name}' has no version ${version}`, { field: 'body.rollout' });
      }
    }
    const result = await this.#query(
      'update pipelines set rollout = $3, updated_at = now() where project_id = $1 and name = $2',
      [projectId, name, rollout === null ? null : JSON.stringify(rollout)],
    );
    if (result.rowCount === 0) throw notFound('pipeline', name);
  }

  async delete(projectId: string, name: string): Promise<void> {
    const result = await this.#query('delete from pipelines where project_id = $1 and name = $2', [projectId, name]);
    if (result.rowCount === 0) throw notFound('pipeline', name);
  }

  async resolve(projectId: string, ref: string): Promise<ResolvedPipeline | undefined> {
    const parsed = parsePipelineRef(ref);
    const { rows } = await this.#query<VersionRow>(
      parsed.version !== undefined
        ? 'select * from pipeline_versions where project_id = $1 and name = $2 and version = $3'
        : `select v.* from pipeline_versions v
           join pipelines p on p.project_id = v.project_id and p.name = v.name
           left join pipeline_aliases a on a.project_id = v.project_id and a.name = v.name and a.alias = $3
           where v.project_id = $1 and v.name = $2
             and v.version = ${parsed.alias !== undefined ? 'a.version' : 'coalesce(a.version, p.latest_version)'}`,
      [projectId, parsed.name, parsed.version ?? parsed.alias ?? 'production'],
    );
    const row = rows[0];
    return row === undefined ? undefined : { name: row.name, version: row.version, definition: row.definition };
  }

  #query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    return withDatabaseErrors(() => this.#pool.query<R>(text, values));
  }

  async #transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await withDatabaseErrors(() => this.#pool.connect());
    try {
      await client.query('begin');
      const result = await work(client);
      await client.query('commit');
      return result;
    } catch (error) {
      await client.query('rollback').catch(() => {});
      if (EnsembleError.isInstance(error)) throw error;
      return withDatabaseErrors(() => Promise.reject(error));
    } finally {
      client.release();
    }
  }
}

async function insertVersion(
  client: pg.PoolClient,
  projectId: string,
  name: string,
  version: number,
  definition: PipelineDefinition,
  description: string,
  actor: string,
): Promise<PipelineVersion> {
  const { rows } = await client.query<VersionRow>(
    `insert into pipeline_versions (project_id, name, version, definition, description, created_by)
     values ($1, $2, $3, $4, $5, $6) returning *`,
    [projectId, name, version, JSON.stringify(definition), description, actor],
  );
  return toVersion(rows[0] as VersionRow);
}

function toPipeline(row: PipelineRow): StoredPipeline {
  return {
    projectId: row.project_id,
    name: row.name,
    description: row.description,
    latestVersion: row.latest_version,
    aliases: row.aliases ?? {},
    rollout: row.rollout,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function toVersion(row: VersionRow): PipelineVersion {
  return {
    name: row.name,
    version: row.version,
    definition: row.definition,
    description: row.description,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
  };
}
