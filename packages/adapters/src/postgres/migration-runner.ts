import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnsembleError, type Logger, silentLogger } from '@ensemble/core';
import type pg from 'pg';
import { advisoryLockKey } from './advisory-lock-key.ts';
import type { Database } from './create-database.ts';
import { mapDatabaseError } from './database-errors.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** sha256 of the file with line endings normalised, so a checkout with CRLF is not "edited". */
  checksum: string;
}

export interface MigrationOptions {
  /** Folder of `NNNN_name.sql` files; defaults to this package's `migrations/`. */
  directory?: string;
  logger?: Logger;
  /** How long to wait for another instance that is migrating the same database. */
  lockTimeoutMs?: number;
}

export interface MigrationResult {
  /** Versions applied by this run, in order. */
  applied: number[];
  /** The newest version the database now has. */
  current: number;
}

export const defaultMigrationsDirectory = fileURLToPath(new URL('./migrations/', import.meta.url));
const fileNamePattern = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** Reads and orders the migration files, refusing misnamed or duplicate ones. */
export async function readMigrations(directory = defaultMigrationsDirectory): Promise<Migration[]> {
  const migrations: Migration[] = [];
  for (const file of (await readdir(directory)).filter((name) => name.endsWith('.sql')).sort()) {
    const match = fileNamePattern.exec(file);
    if (!match) {
      throw new EnsembleError('config_invalid', `migration file ${file} must be named NNNN_lower_snake_name.sql`, {
        details: { file },
      });
    }
    const version = Number(match[1]);
    if (migrations.some((m) => m.version === version)) {
      throw new EnsembleError('config_invalid', `two migration files have version ${match[1]}`, { details: { file } });
    }
    const sql = (await readFile(join(directory, file), 'utf8')).replaceAll('\r\n', '\n');
    migrations.push({
      version,
      name: match[2] as string,
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    });
  }
  return migrations;
}

/**
 * Applies the migrations the database does not have yet, each in its own transaction, recorded in
 * `schema_migrations` with its checksum. The run holds an advisory lock, so instances starting
 * together apply each migration once; an applied migration whose file changed stops the run.
 * Uses a dedicated connection without a statement timeout, since a migration may take long.
 */
export async function runMigrations(database: Database, options: MigrationOptions = {}): Promise<MigrationResult> {
  const logger = (options.logger ?? silentLogger).child({ component: 'migrations' });
  const migrations = await readMigrations(options.directory);
  const client = database.dedicatedClient({ statementTimeoutMs: 0, applicationName: 'ensemble-migrations' });
  client.on('error', (error) => logger.warn({ err: error.message }, 'the migration connection failed'));
  try {
    await client.connect();
  } catch (error) {
    throw mapDatabaseError(error);
  }
  try {
    await client.query(`set lock_timeout = ${Math.max(1, Math.round(options.lockTimeoutMs ?? 300_000))}`);
    await client.query('select pg_advisory_lock($1::bigint)', [advisoryLockKey('ensemble', 'migrations')]);
    await client.query('reset lock_timeout');
    await client.query(`
      create table if not exists schema_migrations (
        version integer primary key,
        name text not null,
        checksum text not null,
        applied_at timestamptz not null default now(),
        duration_ms integer not null
      )`);
    const applied = await appliedMigrations(client);
    verifyApplied(migrations, applied, logger);
    const done: number[] = [];
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      await apply(client, migration);
      done.push(migration.version);
      logger.info({ version: migration.version, name: migration.name }, 'applied a migration');
    }
    const current = Math.max(0, ...migrations.map((m) => m.version), ...applied.keys());
    return { applied: done, current };
  } catch (error) {
    throw mapDatabaseError(error);
  } finally {
    // Ending the session releases the advisory lock too.
    await client.end().catch(() => undefined);
  }
}

async function appliedMigrations(client: pg.Client): Promise<Map<number, { name: string; checksum: string }>> {
  const { rows } = await client.query<{ version: number; name: string; checksum: string }>(
    'select version, name, checksum from schema_migrations order by version',
  );
  return new Map(rows.map((row) => [row.version, { name: row.name, checksum: row.checksum }]));
}

function verifyApplied(
  migrations: readonly Migration[],
  applied: Map<number, { name: string; checksum: string }>,
  logger: Logger,
): void {
  for (const migration of migrations) {
    const row = applied.get(migration.version);
    if (row && row.checksum !== migration.checksum) {
      throw new EnsembleError(
        'config_invalid',
        `migration ${String(migration.version).padStart(4, '0')}_${migration.name} was changed after it was applied ` +
          `(checksum ${row.checksum.slice(0, 12)}… in the database, ${migration.checksum.slice(0, 12)}… on disk): ` +
          'restore the file and put the change in a new migration',
        { details: { version: migration.version, name: migration.name } },
      );
    }
  }
  const known = new Set(migrations.map((m) => m.version));
  const newer = [...applied.keys()].filter((version) => !known.has(version));
  if (newer.length > 0) {
    // A newer release migrated this database (e.g. during a rolling deploy); its changes are additive.
    logger.warn({ versions: newer }, 'the database has migrations this release does not know');
  }
}

async function apply(client: pg.Client, migration: Migration): Promise<void> {
  const startedAt = Date.now();
  await client.query('begin');
  try {
    await client.query(migration.sql);
    await client.query('insert into schema_migrations (version, name, checksum, duration_ms) values ($1, $2, $3, $4)', [
      migration.version,
      migration.name,
      migration.checksum,
      Date.now() - startedAt,
    ]);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    const mapped = mapDatabaseError(error);
    if (mapped instanceof EnsembleError) throw mapped;
    throw new EnsembleError(
      'internal_error',
      `migration ${String(migration.version).padStart(4, '0')}_${migration.name} failed: ${(error as Error).message}`,
      { cause: error, details: { version: migration.version } },
    );
  }
}
