import { randomBytes } from 'node:crypto';
import { type BatchFile, type BatchFileRepository, batchFileIdPattern, notFound, type Page } from '@ensemble/core';
import { type Kysely, type Selectable, sql } from 'kysely';
import type { BatchFilesTable, DatabaseSchema } from './database-schema.ts';

const base62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Files of OpenAI's Files API in `batch_files` (see `BatchFileRepository`). */
export class PostgresBatchFileRepository implements BatchFileRepository {
  readonly #db: Kysely<DatabaseSchema>;

  constructor(db: Kysely<DatabaseSchema>) {
    this.#db = db;
  }

  async create(file: Omit<BatchFile, 'id' | 'createdAt'>): Promise<BatchFile> {
    const row = await this.#db
      .insertInto('batch_files')
      .values({
        id: `file-${randomBase62(24)}`,
        project_id: file.projectId,
        purpose: file.purpose,
        filename: file.filename,
        bytes: file.bytes,
        sha256: file.sha256,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toBatchFile(row);
  }

  async get(projectId: string, id: string): Promise<BatchFile> {
    if (!batchFileIdPattern.test(id)) throw notFound('file', id);
    const row = await this.#db
      .selectFrom('batch_files')
      .selectAll()
      .where('id', '=', id)
      .where('project_id', '=', projectId)
      .executeTakeFirst();
    if (row === undefined) throw notFound('file', id);
    return toBatchFile(row);
  }

  async list(
    projectId: string,
    options: { limit: number; after?: string; purpose?: string },
  ): Promise<Page<BatchFile>> {
    let query = this.#db
      .selectFrom('batch_files')
      .selectAll()
      .where('project_id', '=', projectId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(options.limit + 1);
    if (options.purpose !== undefined) query = query.where('purpose', '=', options.purpose);
    if (options.after !== undefined && batchFileIdPattern.test(options.after)) {
      query = query.where(
        sql<boolean>`(created_at, id) < (select created_at, id from batch_files where id = ${options.after})`,
      );
    }
    const rows = await query.execute();
    const items = rows.slice(0, options.limit).map(toBatchFile);
    const last = items.at(-1);
    return rows.length > options.limit && last ? { items, nextCursor: last.id } : { items };
  }
}

function toBatchFile(row: Selectable<BatchFilesTable>): BatchFile {
  return {
    id: row.id,
    projectId: row.project_id,
    purpose: row.purpose,
    filename: row.filename,
    bytes: Number(row.bytes),
    sha256: row.sha256,
    createdAt: row.created_at,
  };
}

function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248) out += base62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}
