import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EnsembleError } from '@ensemble/core';
import { createTestDatabase, type TestDatabase } from '@ensemble/testkit';
import { createDatabase, type Database } from './create-database.ts';
import { defaultMigrationsDirectory, readMigrations, runMigrations } from './migration-runner.ts';

describe('migration runner', { timeout: 120_000 }, () => {
  const testDatabases: TestDatabase[] = [];
  const databases: Database[] = [];
  const folders: string[] = [];
  const freshDatabase = async () => {
    const testDatabase = await createTestDatabase('migrations');
    testDatabases.push(testDatabase);
    const database = createDatabase({ url: testDatabase.url });
    databases.push(database);
    return { testDatabase, database };
  };
  const copyOfMigrations = async () => {
    const folder = await mkdtemp(join(tmpdir(), 'ensemble-migrations-'));
    folders.push(folder);
    await cp(defaultMigrationsDirectory, folder, { recursive: true });
    return folder;
  };
  let all: number[];

  before(async () => {
    all = (await readMigrations()).map((m) => m.version);
  });
  after(async () => {
    for (const database of databases) await database.close();
    for (const testDatabase of testDatabases) await testDatabase.drop();
    for (const folder of folders) await rm(folder, { recursive: true, force: true });
  });

  it('applies every migration to a fresh database, in order, and seeds the default project', async () => {
    const { database } = await freshDatabase();
    const result = await runMigrations(database);
    assert.deepEqual(result.applied, all);
    assert.equal(result.current, all.at(-1));
    const rows = await database.db.selectFrom('schema_migrations').select(['version', 'checksum']).execute();
    assert.deepEqual(
      rows.map((row) => row.version),
      all,
    );
    assert.ok(rows.every((row) => /^[0-9a-f]{64}$/.test(row.checksum)));
    const project = await database.db.selectFrom('projects').selectAll().where('id', '=', 'default').executeTakeFirst();
    assert.equal(project?.id, 'default');
  });

  it('does nothing when run again', async () => {
    const { database } = await freshDatabase();
    await runMigrations(database);
    const again = await runMigrations(database);
    assert.deepEqual(again.applied, []);
    const { count } = await database.db
      .selectFrom('projects')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .executeTakeFirstOrThrow();
    assert.equal(Number(count), 1);
  });

  it('applies each migration once when several instances start together', async () => {
    const { testDatabase } = await freshDatabase();
    const instances = Array.from({ length: 4 }, () => {
      const database = createDatabase({ url: testDatabase.url });
      databases.push(database);
      return database;
    });
    const results = await Promise.all(instances.map((database) => runMigrations(database)));
    const appliedEverywhere = results.flatMap((result) => result.applied).sort((a, b) => a - b);
    assert.deepEqual(appliedEverywhere, all, 'every migration was applied by exactly one instance');
    const rows = await (instances[0] as Database).db.selectFrom('schema_migrations').select('version').execute();
    assert.equal(rows.length, all.length);
  });

  it('refuses to run when an applied migration was edited', async () => {
    const { database } = await freshDatabase();
    const folder = await copyOfMigrations();
    await runMigrations(database, { directory: folder });
    await writeFile(join(folder, '0001_projects.sql'), '-- edited\nselect 1;\n');
    await assert.rejects(runMigrations(database, { directory: folder }), (error: unknown) => {
      assert.ok(error instanceof EnsembleError);
      assert.equal(error.code, 'config_invalid');
      assert.match(error.message, /0001_projects was changed after it was applied/);
      return true;
    });
  });

  it('rolls a failing migration back entirely and reports which one failed', async () => {
    const { database } = await freshDatabase();
    const folder = await copyOfMigrations();
    await writeFile(join(folder, '9000_broken.sql'), 'create table half_done (id int);\nselect no_such_function();\n');
    await assert.rejects(runMigrations(database, { directory: folder }), /9000_broken failed/);
    const versions = await database.db.selectFrom('schema_migrations').select('version').execute();
    assert.deepEqual(
      versions.map((row) => row.version),
      all,
    );
    const table = await database.pool.query("select to_regclass('half_done') as name");
    assert.equal(table.rows[0].name, null);
  });

  it('refuses misnamed migration files', async () => {
    const folder = await copyOfMigrations();
    await writeFile(join(folder, '12_bad-name.sql'), 'select 1;');
    await assert.rejects(readMigrations(folder), /must be named NNNN_lower_snake_name.sql/);
  });
});
