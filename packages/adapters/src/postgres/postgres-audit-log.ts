import type { AuditEntry, AuditLog, AuditQuery, NewAuditEntry, Page } from '@ensemble/core';
import { validationError } from '@ensemble/core';
import type { Kysely, Selectable } from 'kysely';
import type { AuditLogTable, DatabaseSchema } from './database-schema.ts';

/** The audit log in `audit_log` (migration 0033), which the database keeps append-only. */
export class PostgresAuditLog implements AuditLog {
  readonly #db: Kysely<DatabaseSchema>;

  constructor(db: Kysely<DatabaseSchema>) {
    this.#db = db;
  }

  async append(entry: NewAuditEntry): Promise<void> {
    await this.#db
      .insertInto('audit_log')
      .values({
        project_id: entry.projectId,
        actor_key_id: entry.actorKeyId,
        actor_user_id: entry.actorUserId ?? null,
        actor_role: entry.actorRole,
        source_ip: entry.sourceIp,
        action: entry.action,
        resource_type: entry.resourceType,
        resource_id: entry.resourceId,
        route: entry.route,
        status: entry.status,
        request_id: entry.requestId,
        before: entry.before === undefined || entry.before === null ? null : JSON.stringify(entry.before),
        after: entry.after === undefined || entry.after === null ? null : JSON.stringify(entry.after),
      })
      .execute();
  }

  async list(query: AuditQuery): Promise<Page<AuditEntry>> {
    let select = this.#db
      .selectFrom('audit_log')
      .selectAll()
      .where('project_id', '=', query.projectId)
      .orderBy('id', 'desc')
      .limit(query.limit + 1);
    if (query.action !== undefined) select = select.where('action', '=', query.action);
    if (query.resourceType !== undefined) select = select.where('resource_type', '=', query.resourceType);
    if (query.resourceId !== undefined) select = select.where('resource_id', '=', query.resourceId);
    if (query.actorKeyId !== undefined) select = select.where('actor_key_id', '=', query.actorKeyId);
    if (query.from !== undefined) select = select.where('at', '>=', query.from);
    if (query.to !== undefined) select = select.where('at', '<', query.to);
    if (query.after !== undefined) {
      if (!/^[1-9][0-9]{0,18}$/.test(query.after)) {
        throw validationError(
          'querystring.after',
          'is not a cursor from a previous page (pass nextCursor back unchanged)',
        );
      }
      select = select.where('id', '<', query.after);
    }
    const rows = await select.execute();
    const items = rows.slice(0, query.limit).map(toEntry);
    const last = items.at(-1);
    return rows.length > query.limit && last ? { items, nextCursor: last.id } : { items };
  }
}

function toEntry(row: Selectable<AuditLogTable>): AuditEntry {
  return {
    id: String(row.id),
    at: row.at,
    projectId: row.project_id,
    actorKeyId: row.actor_key_id,
    actorUserId: row.actor_user_id,
    actorRole: row.actor_role,
    sourceIp: row.source_ip,
    action: row.action,
    resourceType: row.resource_type,
    resourceId: row.resource_id,
    route: row.route,
    status: row.status,
    requestId: row.request_id,
    before: row.before,
    after: row.after,
  };
}
