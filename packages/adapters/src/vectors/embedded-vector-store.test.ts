import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '@ensemble/testkit';
import { describeVectorStoreContract } from '@ensemble/testkit/vector-store-contract';
import { createDatabase, type Database } from '../postgres/create-database.ts';
import { runMigrations } from '../postgres/migration-runner.ts';
import { EmbeddedVectorStore } from './embedded-vector-store.ts';

describeVectorStoreContract('embedded', async () => {
  const testDatabase = await createTestDatabase('vectors_contract');
  const database = createDatabase({ url: testDatabase.url });
  await runMigrations(database);
  const snapshotDir = await mkdtemp(join(tmpdir(), 'ensemble-vectors-'));
  // Every filtered query of the contract goes through the graph's filtered search, not the exact path.
  const store = new EmbeddedVectorStore({ pool: database.pool, snapshotDir, hnsw: { exactSearchMaxMatches: 0 } });
  return {
    store,
    async cleanup() {
      await store.close();
      await database.close();
      await testDatabase.drop();
      await rm(snapshotDir, { recursive: true, force: true });
    },
  };
});

describe('EmbeddedVectorStore durability', { timeout: 180_000 }, () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let snapshotDir: string;

  before(async () => {
    testDatabase = await createTestDatabase('vectors_durability');
    database = createDatabase({ url: testDatabase.url });
    await runMigrations(database);
    snapshotDir = await mkdtemp(join(tmpdir(), 'ensemble-vectors-'));
    await chmod(snapshotDir, 0o755);
  });

  after(async () => {
    await database?.close();
    await testDatabase?.drop();
    if (snapshotDir) await rm(snapshotDir, { recursive: true, force: true });
  });

  it('loses no acknowledged write when the process is killed before snapshotting it', async () => {
    const setup = new EmbeddedVectorStore({ pool: database.pool, snapshotDir });
    await setup.createIndex('crash', { dimension: 16, metric: 'cosine' });
    await setup.close();

    const script = fileURLToPath(new URL('./testing/crash-writer.ts', import.meta.url));
    const child = spawn(process.execPath, [script, testDatabase.url, snapshotDir, 'crash', '8'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let acked = 0;
    let deleted = false;
    await new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (text: string) => {
        for (const line of text.split('\n')) {
          const match = /^acked (\d+)$/.exec(line);
          if (match) acked = Number(match[1]);
          if (line === 'deleted 2') {
            deleted = true;
            child.kill('SIGKILL');
          }
        }
      });
      child.on('exit', () => (deleted ? resolve() : reject(new Error('the writer exited before its last write'))));
    });
    assert.equal(acked, 400);
    // A snapshot exists (taken half-way), so the restart restores it and replays what came after.
    assert.ok((await readdir(snapshotDir)).length > 0);

    const restarted = new EmbeddedVectorStore({ pool: database.pool, snapshotDir });
    const index = restarted.index('crash');
    const stats = await index.stats();
    assert.equal(stats.totalVectorCount, acked - 2);
    assert.deepEqual(await index.fetch(['v0', 'v1']), []);
    // Every vector written after the snapshot is searchable: each is its own nearest neighbour.
    for (const i of [2, 225, 399]) {
      const values = Array.from({ length: 16 }, (_, d) => Math.sin(i * 7 + d));
      const [top] = await index.query({ vector: values, topK: 1, includeMetadata: true });
      assert.equal(top?.id, `v${i}`);
      assert.deepEqual(top?.metadata, { i });
    }
    assert.deepEqual(await index.query({ id: 'v0', topK: 1 }), []);
    await restarted.close();
  });

  it('restores from its snapshot at close and sees later changes made by rows alone', async () => {
    const first = new EmbeddedVectorStore({ pool: database.pool, snapshotDir });
    await first.createIndex('restore', { dimension: 4, metric: 'euclidean' });
    const index = first.index('restore');
    await index.upsert([
      { id: 'a', values: [0, 0, 0, 1] },
      { id: 'b', values: [0, 0, 1, 0] },
    ]);
    await first.close();
    // Changed behind the snapshot's back (as if written just before a crash).
    await database.pool.query("delete from vectors where index_id = 'restore' and id = 'b'");
    const second = new EmbeddedVectorStore({ pool: database.pool, snapshotDir });
    await second.index('restore').upsert([{ id: 'c', values: [1, 0, 0, 0] }]);
    const matches = await second.index('restore').query({ vector: [0.9, 0, 0, 0], topK: 5 });
    assert.deepEqual(
      matches.map((m) => m.id),
      ['c', 'a'],
    );
    await second.dropIndex('restore');
    await second.close();
  });
});
