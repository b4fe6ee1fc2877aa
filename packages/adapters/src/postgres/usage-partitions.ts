import { type Logger, silentLogger } from '@ensemble/core';
import { type Kysely, sql } from 'kysely';
import { advisoryLockKey } from './advisory-lock-key.ts';
import type { DatabaseSchema } from './database-schema.ts';

const dayMs = 86_400_000;
const parent = 'usage_records';
const defaultPartition = 'usage_records_default';
const partitionName = /^usage_records_p(\d{4})(\d{2})(\d{2})$/;

/** `2026-11-15` for any instant of that UTC day. */
export function usageDayOf(instant: Date | number): string {
  return new Date(Math.floor(new Date(instant).getTime() / dayMs) * dayMs).toISOString().slice(0, 10);
}

/** `usage_records_p20261115`: only digits come from outside, so the name is safe to write into DDL. */
function tableFor(day: string): string {
  return `${parent}_p${day.replaceAll('-', '')}`;
}

function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + dayMs).toISOString().slice(0, 10);
}

/**
 * The daily partitions of `usage_records`. A day's partition is created as a table of its own, filled
 * with that day's rows from the default partition, and attached, all in one transaction under an
 * advisory lock: writers keep going (attaching takes a lock that lets them), and rows that landed in
 * the default partition before their day existed move into it. Dropping a day takes a short
 * `lock_timeout`, so a busy moment postpones retention instead of stalling writers.
 */
export class UsagePartitions {
  readonly #db: Kysely<DatabaseSchema>;
  readonly #logger: Logger;
  /** Days known to have their partition, so writers ask the database about a day once. */
  readonly #known = new Set<string>();

  constructor(db: Kysely<DatabaseSchema>, logger: Logger = silentLogger) {
    this.#db = db;
    this.#logger = logger;
  }

  /** Creates the partitions of `days` that do not exist yet. Returns the days it created. */
  async ensure(days: Iterable<string>): Promise<string[]> {
    const created: string[] = [];
    for (const day of new Set(days)) {
      if (this.#known.has(day)) continue;
      if (await this.#create(day)) created.push(day);
      this.#known.add(day);
    }
    return created;
  }

  /** True when `day` has its partition, as far as this process knows. */
  has(day: string): boolean {
    return this.#known.has(day);
  }

  /** The days that have a partition, oldest first. */
  async list(): Promise<string[]> {
    const { rows } = await sql<{ name: string }>`
      select child.relname as name
      from pg_inherits
      join pg_class child on child.oid = pg_inherits.inhrelid
      where pg_inherits.inhparent = ${parent}::regclass`.execute(this.#db);
    return rows
      .map((row) => partitionName.exec(row.name))
      .filter((match) => match !== null)
      .map((match) => `${match[1]}-${match[2]}-${match[3]}`)
      .sort();
  }

  /**
   * Drops the days that end before `cutoff`'s day starts, and deletes older rows from the default
   * partition. A day whose table is busy is left for the next round.
   */
  async dropBefore(cutoff: Date): Promise<string[]> {
    const firstKept = usageDayOf(cutoff);
    const dropped: string[] = [];
    for (const day of await this.list()) {
      if (day >= firstKept) break;
      try {
        await this.#db.transaction().execute(async (trx) => {
          await sql`set local lock_timeout = '5s'`.execute(trx);
          await sql`drop table ${sql.table(tableFor(day))}`.execute(trx);
        });
        this.#known.delete(day);
        dropped.push(day);
      } catch (error) {
        this.#logger.warn({ err: String(error), day }, 'could not drop an old usage partition; trying again later');
      }
    }
    await sql`delete from ${sql.table(defaultPartition)} where ts < ${`${firstKept}T00:00:00Z`}::timestamptz`.execute(
      this.#db,
    );
    return dropped;
  }

  async #create(day: string): Promise<boolean> {
    const table = tableFor(day);
    const from = `${day}T00:00:00Z`;
    const to = `${nextDay(day)}T00:00:00Z`;
    return this.#db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${advisoryLockKey('ensemble', 'usage-partitions')}::bigint)`.execute(trx);
      const { rows } = await sql<{ present: boolean }>`select to_regclass(${table}) is not null as present`.execute(
        trx,
      );
      if (rows[0]?.present) return false;
      await sql`set local lock_timeout = '10s'`.execute(trx);
      // Writers that would put this day's rows into the default partition wait until it is attached.
      await sql`lock table ${sql.table(defaultPartition)} in exclusive mode`.execute(trx);
      await sql`create table ${sql.table(table)} (like ${sql.table(parent)} including defaults including constraints)`.execute(
        trx,
      );
      const moved = await sql`
        with moved as (
          delete from ${sql.table(defaultPartition)} where ts >= ${from}::timestamptz and ts < ${to}::timestamptz
          returning *
        )
        insert into ${sql.table(table)} select * from moved`.execute(trx);
      await sql`alter table ${sql.table(parent)} attach partition ${sql.table(table)}
        for values from (${sql.lit(from)}) to (${sql.lit(to)})`.execute(trx);
      const count = Number(moved.numAffectedRows ?? 0n);
      this.#logger.info({ day, movedFromDefault: count }, 'usage partition created');
      return true;
    });
  }
}
