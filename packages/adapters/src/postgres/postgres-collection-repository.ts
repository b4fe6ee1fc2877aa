import {
  type Collection,
  type CollectionRepository,
  type CollectionRow,
  conflict,
  notFound,
  type Page,
  validationError,
} from '@ensemble/core';
import type pg from 'pg';
import { withDatabaseErrors } from './database-errors.ts';

interface Row {
  id: string;
  project_id: string;
  name: string;
  backend: Collection['backend'];
  dimension: number;
  metric: Collection['metric'];
  embedding_model: string | null;
  embedding_model_version: number | null;
  storage_id: string;
  description: string;
  created_at: Date;
  updated_at: Date;
}

/** Collections in PostgreSQL (the rows; the vectors live in their store). */
export class PostgresCollectionRepository implements CollectionRepository {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async list(projectId: string, options: { limit: number; after?: string }): Promise<Page<Collection>> {
    const after = options.after === undefined ? '' : decodeCursor(options.after);
    const result = await this.#query(
      'select * from collections where project_id = $1 and name > $2 order by name limit $3',
      [projectId, after, options.limit + 1],
    );
    const items = result.rows.slice(0, options.limit).map(toCollection);
    const last = items.at(-1);
    return result.rows.length > options.limit && last
      ? { items, nextCursor: Buffer.from(last.name).toString('base64url') }
      : { items };
  }

  async get(projectId: string, name: string): Promise<Collection> {
    const result = await this.#query('select * from collections where project_id = $1 and name = $2', [
      projectId,
      name,
    ]);
    const row = result.rows[0];
    if (!row) throw notFound('collection', name);
    return toCollection(row);
  }

  async create(collection: CollectionRow): Promise<Collection> {
    const result = await this.#query(
      `insert into collections (project_id, name, backend, dimension, metric, embedding_model, embedding_model_version, storage_id, description)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       on conflict (project_id, name) do nothing returning *`,
      [
        collection.projectId,
        collection.name,
        collection.backend,
        collection.dimension,
        collection.metric,
        collection.embedding?.model ?? null,
        collection.embedding?.version ?? null,
        collection.storageId,
        collection.description,
      ],
    );
    const row = result.rows[0];
    if (!row) throw conflict('collection', collection.name);
    return toCollection(row);
  }

  async delete(projectId: string, name: string): Promise<Collection> {
    const result = await this.#query('delete from collections where project_id = $1 and name = $2 returning *', [
      projectId,
      name,
    ]);
    const row = result.rows[0];
    if (!row) throw notFound('collection', name);
    return toCollection(row);
  }

  #query(text: string, values: unknown[]): Promise<pg.QueryResult<Row>> {
    return withDatabaseErrors(() => this.#pool.query<Row>(text, values));
  }
}

function decodeCursor(value: string): string {
  const name = Buffer.from(value, 'base64url').toString('utf8');
  if (name.length === 0) throw validationError('querystring.after', 'is not a cursor from a previous page');
  return name;
}

function toCollection(row: Row): Collection {
  return {
    id: row.id,
    projectId: row.project_id,
    name: row.name,
    backend: row.backend,
    dimension: row.dimension,
    metric: row.metric,
    embedding:
      row.embedding_model === null || row.embedding_model_version === null
        ? null
        : { model: row.embedding_model, version: row.embedding_model_version },
    storageId: row.storage_id,
    description: row.description,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
