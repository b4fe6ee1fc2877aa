import { conflict, type NewProject, notFound, type Page, type Project, type ProjectRepository } from '@ensemble/core';
import type { Kysely, Selectable } from 'kysely';
import type { DatabaseSchema, ProjectsTable } from './database-schema.ts';

/** Projects in PostgreSQL; connection failures surface as `database_unavailable` through Kysely. */
export class PostgresProjectRepository implements ProjectRepository {
  readonly #db: Kysely<DatabaseSchema>;

  constructor(db: Kysely<DatabaseSchema>) {
    this.#db = db;
  }

  async list({ limit, after }: { limit: number; after?: string }): Promise<Page<Project>> {
    let query = this.#db
      .selectFrom('projects')
      .selectAll()
      .orderBy('id')
      .limit(limit + 1);
    if (after !== undefined) query = query.where('id', '>', after);
    const rows = await query.execute();
    const items = rows.slice(0, limit).map(toProject);
    const last = items.at(-1);
    return rows.length > limit && last ? { items, nextCursor: last.id } : { items };
  }

  async get(id: string): Promise<Project> {
    const row = await this.#db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('project', id);
    return toProject(row);
  }

  async create(project: NewProject): Promise<Project> {
    // ON CONFLICT DO NOTHING instead of catching 23505, so a taken id never aborts a caller's transaction.
    const row = await this.#db
      .insertInto('projects')
      .values({ id: project.id, name: project.name })
      .onConflict((oc) => oc.column('id').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!row) throw conflict('project', project.id);
    return toProject(row);
  }
}

function toProject(row: Selectable<ProjectsTable>): Project {
  return { id: row.id, name: row.name, createdAt: row.created_at, updatedAt: row.updated_at };
}
