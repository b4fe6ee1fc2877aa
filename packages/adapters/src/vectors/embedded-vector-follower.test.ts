import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EnsembleError, type Logger, silentLogger } from '@ensemble/core';
import { createTestDatabase, type TestDatabase } from '@ensemble/testkit';
import { createDatabase, type Database } from '../postgres/create-database.ts';
import { runMigrations } from '../postgres/migration-runner.ts';
import { EmbeddedVectorStore } from './embedded-vector-store.ts';

/** A vector pointing mostly along axis `i` (dimension 8): each is its own nearest neighbour. */
function axis(i: number, dimension = 8): number[] {
  return Array.from({ length: dimension }, (_, d) => (d === i % dimension ? 1 : 0.01 * ((i * 7 + d) % 5)));
}

/** Records the follower's catch-up log lines (the figures the report quotes). */
function recordingLogger(lines: Record<string, unknown>[]): Logger {
  const logger: Logger = {
    ...silentLogger,
    debug: (fields: unknown, message?: string) => {
      if (message === 'vector index follower caught up') lines.push(fields as Record<string, unknown>);
    },
    child: () => logger,
  } as Logger;
  return logger;
}

describe('EmbeddedVectorStore following another process’s writes', { timeout: 120_000 }, () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let writer: EmbeddedVectorStore;
  let follower: EmbeddedVectorStore;

  before(async () => {
    testDatabase = await createTestDatabase('vectors_follow');
    database = createDatabase({ url: testDatabase.url });
    await runMigrations(database);
    writer = new EmbeddedVectorStore({ pool: database.pool });
    follower = new EmbeddedVectorStore({ pool: database.pool, follow: true });
  });

  after(async () => {
    await follower?.close();
    await writer?.close();
    await database?.close();
    await testDatabase?.drop();
  });

  const ids = async (store: EmbeddedVectorStore, index: string, i: number, namespace?: string) =>
    (await store.index(index).query({ vector: axis(i), topK: 3, ...(namespace ? { namespace } : {}) })).map(
      (m) => m.id,
    );

  it('sees each upsert, update, delete and namespace delete on its next query', async () => {
    await writer.createIndex('f', { dimension: 8, metric: 'cosine' });
    const w = writer.index('f');
    const f = follower.index('f');
    await w.upsert([
      { id: 'a', values: axis(0), metadata: { n: 1 } },
      { id: 'b', values: axis(1) },
    ]);
    assert.deepEqual((await f.query({ vector: axis(0), topK: 1, includeMetadata: true }))[0], {
      id: 'a',
      score: (await w.query({ vector: axis(0), topK: 1 }))[0]?.score,
      metadata: { n: 1 },
    });
    // Upsert of a new vector.
    await w.upsert([{ id: 'c', values: axis(2) }]);
    assert.equal((await ids(follower, 'f', 2))[0], 'c');
    // Update: values move 'a' next to axis 3, metadata merges.
    await w.update({ id: 'a', values: axis(3), setMetadata: { m: 2 } });
    const [moved] = await f.query({ vector: axis(3), topK: 1, includeMetadata: true });
    assert.equal(moved?.id, 'a');
    assert.deepEqual(moved?.metadata, { n: 1, m: 2 });
    // Delete by id and by filter.
    await w.delete({ ids: ['b'] });
    assert.ok(!(await ids(follower, 'f', 1)).includes('b'));
    await w.delete({ filter: { m: { $eq: 2 } } });
    assert.deepEqual(await ids(follower, 'f', 3), ['c']);
    // Deleted then written again (a new label): present once.
    await w.upsert([{ id: 'b', values: axis(1) }]);
    await w.delete({ ids: ['b'] });
    await w.upsert([{ id: 'b', values: axis(4) }]);
    assert.deepEqual(await ids(follower, 'f', 4), ['b', 'c']);
    // Namespaces: written, then deleted whole, then written again.
    await w.upsert([{ id: 'x', values: axis(5) }], 'other');
    assert.deepEqual(await ids(follower, 'f', 5, 'other'), ['x']);
    await w.delete({ deleteAll: true, namespace: 'other' });
    assert.deepEqual(await ids(follower, 'f', 5, 'other'), []);
    await w.upsert([{ id: 'y', values: axis(6) }], 'other');
    assert.deepEqual(await ids(follower, 'f', 5, 'other'), ['y']);
    assert.deepEqual(await f.stats(), await w.stats());
  });

  it('refuses writes with an error naming the reason', async () => {
    const f = follower.index('f');
    const refused = (error: unknown) =>
      error instanceof EnsembleError && error.code === 'forbidden' && error.details?.reason === 'read_only_follower';
    await assert.rejects(f.upsert([{ id: 'z', values: axis(7) }]), refused);
    await assert.rejects(f.update({ id: 'c', setMetadata: { k: 1 } }), refused);
    await assert.rejects(f.delete({ ids: ['c'] }), refused);
    await assert.rejects(follower.createIndex('g', { dimension: 8, metric: 'cosine' }), refused);
    await assert.rejects(follower.dropIndex('f'), refused);
    assert.deepEqual((await writer.index('f').fetch(['c'])).length, 1);
  });

  it('notices a dropped index, and one made again under the same name', async () => {
    await writer.createIndex('gone', { dimension: 8, metric: 'cosine' });
    await writer.index('gone').upsert([{ id: 'old', values: axis(0) }]);
    assert.deepEqual(await ids(follower, 'gone', 0), ['old']);
    await writer.dropIndex('gone');
    await assert.rejects(follower.index('gone').query({ vector: axis(0), topK: 1 }), { code: 'not_found' });
    await writer.createIndex('gone', { dimension: 8, metric: 'cosine' });
    await writer.index('gone').upsert([{ id: 'new', values: axis(0) }]);
    assert.deepEqual(await ids(follower, 'gone', 0), ['new']);
    // Dropped and made again between two of the follower's queries.
    await writer.dropIndex('gone');
    await writer.createIndex('gone', { dimension: 8, metric: 'cosine' });
    await writer.index('gone').upsert([{ id: 'newer', values: axis(1) }]);
    assert.deepEqual(await ids(follower, 'gone', 0), ['newer']);
  });

  it('reloads when it is further behind than the deletion traces the writer keeps', async () => {
    const lines: Record<string, unknown>[] = [];
    const shortWriter = new EmbeddedVectorStore({ pool: database.pool, deletionRetentionMs: 0 });
    const lagging = new EmbeddedVectorStore({ pool: database.pool, follow: true, logger: recordingLogger(lines) });
    await shortWriter.createIndex('short', { dimension: 8, metric: 'cosine' });
    await shortWriter.index('short').upsert([
      { id: 'p', values: axis(0) },
      { id: 'q', values: axis(1) },
    ]);
    assert.deepEqual(await ids(lagging, 'short', 0), ['p', 'q']);
    // Deleted, and its trace pruned at once (retention 0): the follower cannot tell from traces.
    await shortWriter.index('short').delete({ ids: ['p'] });
    const pruned = await database.pool.query(
      "select deletions_pruned_seq, (select count(*) from vector_deletions where index_id = 'short') as traces from vector_indexes where id = 'short'",
    );
    assert.equal(Number(pruned.rows[0].traces), 0);
    assert.ok(BigInt(pruned.rows[0].deletions_pruned_seq) > 0n);
    assert.deepEqual(await ids(lagging, 'short', 0), ['q']);
    // The reload was not a catch-up; afterwards catch-ups resume (no reload loop).
    assert.equal(lines.length, 0);
    await shortWriter.index('short').upsert([{ id: 'r', values: axis(2) }]);
    assert.deepEqual(await ids(lagging, 'short', 2), ['r', 'q']);
    assert.equal(lines.length, 1);
    await lagging.close();
    await shortWriter.close();
  });

  it('fails a query whose catch-up cannot finish in time, rather than answering stale', async () => {
    const impatient = new EmbeddedVectorStore({ pool: database.pool, follow: true, catchUpTimeoutMs: 300 });
    assert.deepEqual(await ids(impatient, 'f', 2), ['c', 'b']);
    await writer.index('f').delete({ ids: ['c'] });
    // Another session holds the index table: the catch-up's statement waits behind it.
    const blocker = await database.pool.connect();
    try {
      await blocker.query('begin');
      await blocker.query('lock table vector_indexes in access exclusive mode');
      await assert.rejects(impatient.index('f').query({ vector: axis(2), topK: 3 }), (error: unknown) => {
        assert.ok(error instanceof EnsembleError);
        assert.equal(error.code, 'database_unavailable');
        assert.equal(error.details?.reason, 'follower_catch_up_failed');
        assert.match(
          error.message,
          /index 'f' could not be brought up to date from PostgreSQL: no answer within 300 ms/,
        );
        return true;
      });
    } finally {
      await blocker.query('rollback');
      blocker.release();
    }
    // Once PostgreSQL answers again, the deletion is seen.
    assert.deepEqual(await ids(impatient, 'f', 2), ['b']);
    await impatient.close();
  });

  it('shares one catch-up between concurrent queries, and measures what one costs', async () => {
    const lines: Record<string, unknown>[] = [];
    const measured = new EmbeddedVectorStore({ pool: database.pool, follow: true, logger: recordingLogger(lines) });
    await writer.createIndex('cost', { dimension: 384, metric: 'cosine' });
    const vector = (i: number) => Array.from({ length: 384 }, (_, d) => Math.sin(i * 13 + d));
    await writer.index('cost').upsert(Array.from({ length: 200 }, (_, i) => ({ id: `v${i}`, values: vector(i) })));
    const f = measured.index('cost');
    await f.query({ vector: vector(0), topK: 1 });
    // Nothing changed: the catch-up statement finds no row.
    const idle: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await f.query({ vector: vector(i), topK: 5 });
      idle.push(performance.now() - t);
    }
    // The same queries on the writer (no catch-up): the difference is the catch-up's cost.
    const direct: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await writer.index('cost').query({ vector: vector(i), topK: 5 });
      direct.push(performance.now() - t);
    }
    // Ten concurrent queries: at most two catch-ups (the running one, and one shared by the rest).
    const before = lines.length;
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => f.query({ vector: vector(i), topK: 1 })));
    assert.deepEqual(
      answers.map((a) => a[0]?.id),
      Array.from({ length: 10 }, (_, i) => `v${i}`),
    );
    assert.ok(lines.length - before <= 2, `${lines.length - before} catch-ups for 10 concurrent queries`);
    // After N writes.
    const figures: string[] = [];
    for (const n of [1, 100, 1000]) {
      await writer
        .index('cost')
        .upsert(Array.from({ length: n }, (_, i) => ({ id: `w${n}-${i}`, values: vector(1000 + n + i) })));
      const t = performance.now();
      const [top] = await f.query({ vector: vector(1000 + n), topK: 1 });
      figures.push(`after ${n} upserts: query with catch-up ${(performance.now() - t).toFixed(1)} ms`);
      assert.equal(top?.id, `w${n}-0`);
    }
    idle.sort((a, b) => a - b);
    direct.sort((a, b) => a - b);
    console.log(
      `# follower (384 dims, 200 vectors): query with an empty catch-up, median ${idle[10]?.toFixed(2)} ms ` +
        `(the writer's own query: ${direct[10]?.toFixed(2)} ms); ${figures.join('; ')}`,
    );
    await measured.close();
  });
});
