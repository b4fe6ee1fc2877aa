import type { ArtifactOwners } from '@ensemble/core';
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from './database-schema.ts';

/** Which project uploaded which artifact, in `artifact_owners` (migration 0031). */
export class PostgresArtifactOwners implements ArtifactOwners {
  readonly #db: Kysely<DatabaseSchema>;

  constructor(db: Kysely<DatabaseSchema>) {
    this.#db = db;
  }

  async record(projectId: string, sha256: string): Promise<void> {
    await this.#db
      .insertInto('artifact_owners')
      .values({ project_id: projectId, sha256 })
      .onConflict((conflict) => conflict.doNothing())
      .execute();
  }

  async owns(projectId: string, sha256: string): Promise<boolean> {
    const row = await this.#db
      .selectFrom('artifact_owners')
      .select('sha256')
      .where('project_id', '=', projectId)
      .where('sha256', '=', sha256)
      .executeTakeFirst();
    return row !== undefined;
  }

  async list(projectId: string): Promise<ReadonlySet<string>> {
    const rows = await this.#db
      .selectFrom('artifact_owners')
      .select('sha256')
      .where('project_id', '=', projectId)
      .execute();
    return new Set(rows.map((row) => row.sha256));
  }
}
