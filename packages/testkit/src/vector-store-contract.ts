import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EnsembleError, type ErrorCode, type VectorIndex, type VectorMetric, type VectorStore } from '@ensemble/core';
import { uniqueName } from './environment.ts';

export interface VectorStoreUnderTest {
  store: VectorStore;
  cleanup(): Promise<void>;
}

/** A deterministic pseudo-random generator, so failures reproduce. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, field?: string | RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(EnsembleError.isInstance(error), String(error));
    assert.equal(error.code, code, error.message);
    if (typeof field === 'string') assert.equal(error.field, field, error.message);
    if (field instanceof RegExp) assert.match(error.message, field);
    return true;
  });
}

/**
 * The behaviour every VectorStore adapter promises (the embedded index, and Pinecone through its SDK
 * against Ensemble's own Pinecone-compatible API). Index ids are made unique per run; `indexIdOf`
 * adapts them to an adapter's naming rules.
 */
export function describeVectorStoreContract(
  adapterName: string,
  connect: () => Promise<VectorStoreUnderTest>,
  indexIdOf: (name: string) => string = (name) => name,
): void {
  describe(`VectorStore contract: ${adapterName}`, { timeout: 240_000 }, () => {
    let harness: VectorStoreUnderTest;
    let store: VectorStore;
    const made: string[] = [];

    const freshIndex = async (dimension: number, metric: VectorMetric = 'cosine'): Promise<VectorIndex> => {
      const id = indexIdOf(uniqueName('vec').replaceAll('_', '-').toLowerCase());
      await store.createIndex(id, { dimension, metric });
      made.push(id);
      return store.index(id);
    };

    before(async () => {
      harness = await connect();
      store = harness.store;
    });

    after(async () => {
      for (const id of made) await store.dropIndex(id).catch(() => undefined);
      await harness?.cleanup();
    });

    it('upserts, fetches and queries by vector and by id, closest first, per metric', async () => {
      for (const metric of ['cosine', 'dotproduct', 'euclidean'] as const) {
        const index = await freshIndex(3, metric);
        await index.upsert([
          { id: 'x', values: [1, 0, 0], metadata: { axis: 'x' } },
          { id: 'y', values: [0, 1, 0], metadata: { axis: 'y' } },
          { id: 'xy', values: [0.7, 0.7, 0], metadata: { axis: 'xy', tags: ['a', 'b'] } },
        ]);
        const matches = await index.query({ vector: [0.9, 0.1, 0], topK: 2, includeMetadata: true });
        assert.deepEqual(
          matches.map((m) => m.id),
          ['x', 'xy'],
          metric,
        );
        assert.deepEqual(matches[0]?.metadata, { axis: 'x' });
        const expectedTop = metric === 'euclidean' ? 0.02 : metric === 'cosine' ? 0.9 / Math.sqrt(0.82) : 0.9;
        assert.ok(Math.abs((matches[0]?.score ?? 0) - expectedTop) < 1e-4, `${metric} score ${matches[0]?.score}`);
        const byId = await index.query({ id: 'y', topK: 1, includeValues: true });
        assert.equal(byId[0]?.id, 'y');
        assert.deepEqual(byId[0]?.values, [0, 1, 0]);
        const fetched = await index.fetch(['xy', 'missing']);
        assert.equal(fetched.length, 1);
        assert.equal(fetched[0]?.id, 'xy');
        assert.deepEqual(fetched[0]?.metadata, { axis: 'xy', tags: ['a', 'b'] });
        assert.ok(Math.abs((fetched[0]?.values[0] ?? 0) - 0.7) < 1e-6);
      }
    });

    it('keeps namespaces apart, with "" and "__default__" the same one', async () => {
      const index = await freshIndex(2);
      await index.upsert([{ id: 'a', values: [1, 0] }], '');
      await index.upsert(
        [
          { id: 'a', values: [0, 1] },
          { id: 'b', values: [1, 1] },
        ],
        'other',
      );
      assert.deepEqual(
        (await index.fetch(['a'], '__default__')).map((r) => r.values),
        [[1, 0]],
      );
      assert.deepEqual(
        (await index.fetch(['a'], 'other')).map((r) => r.values),
        [[0, 1]],
      );
      assert.equal((await index.query({ vector: [1, 0], topK: 10, namespace: 'other' })).length, 2);
      assert.deepEqual(await index.query({ vector: [1, 0], topK: 10, namespace: 'nobody' }), []);
      const stats = await index.stats();
      assert.equal(stats.dimension, 2);
      assert.equal(stats.totalVectorCount, 3);
      assert.deepEqual(stats.namespaces, { '': { vectorCount: 1 }, other: { vectorCount: 2 } });
    });

    it('returns the full topK for selective filters and honours every operator', async () => {
      const index = await freshIndex(8);
      const random = generator(7);
      const records = Array.from({ length: 400 }, (_, i) => ({
        id: `v${String(i).padStart(3, '0')}`,
        values: Array.from({ length: 8 }, () => random() - 0.5),
        metadata: { bucket: i % 10, colour: i % 2 === 0 ? 'red' : 'blue', tags: i % 3 === 0 ? ['three'] : ['other'] },
      }));
      for (let i = 0; i < records.length; i += 100) await index.upsert(records.slice(i, i + 100));
      const query = records[5]?.values as number[];
      const rare = await index.query({
        vector: query,
        topK: 10,
        filter: { bucket: { $eq: 3 } },
        includeMetadata: true,
      });
      assert.equal(rare.length, 10);
      assert.ok(rare.every((m) => m.metadata?.bucket === 3));
      const few = await index.query({ vector: query, topK: 50, filter: { bucket: 3, colour: 'blue' } });
      assert.equal(few.length, 40, 'every match when fewer than topK match');
      const cases: [Record<string, unknown>, number][] = [
        [{ bucket: { $in: [1, 2] } }, 80],
        [{ bucket: { $nin: [1, 2] } }, 320],
        [{ bucket: { $gte: 8 } }, 80],
        [{ bucket: { $lt: 1 } }, 40],
        [{ colour: { $ne: 'red' } }, 200],
        [{ tags: 'three' }, 134],
        [{ $or: [{ bucket: 0 }, { bucket: 9 }] }, 80],
        [{ $and: [{ colour: 'red' }, { bucket: { $lte: 1 } }] }, 40],
        [{ missing: { $exists: true } }, 0],
      ];
      for (const [filter, expected] of cases) {
        const stats = await index.stats(filter);
        assert.equal(stats.totalVectorCount, expected, JSON.stringify(filter));
        const matches = await index.query({ vector: query, topK: 500, filter });
        assert.equal(matches.length, expected, `query ${JSON.stringify(filter)}`);
      }
      await rejectsWith(
        index.query({ vector: query, topK: 3, filter: { bucket: { $regex: 'x' } } }),
        'validation_failed',
        /\$regex/,
      );
    });

    it('honours updates and deletes at once', async () => {
      const index = await freshIndex(2);
      await index.upsert([
        { id: 'a', values: [1, 0], metadata: { keep: true, n: 1 } },
        { id: 'b', values: [0, 1], metadata: { keep: false } },
        { id: 'c', values: [1, 1], metadata: { keep: false } },
        { id: 'd', values: [-1, 0] },
      ]);
      await index.update({ id: 'a', values: [0, 1], setMetadata: { n: 2, extra: 'x' } });
      const [top] = await index.query({ vector: [0, 1], topK: 1, includeMetadata: true });
      assert.ok(top?.id === 'a' || top?.id === 'b');
      const [fetched] = await index.fetch(['a']);
      assert.deepEqual(fetched?.metadata, { keep: true, n: 2, extra: 'x' });
      await rejectsWith(index.update({ id: 'nope', setMetadata: { a: 1 } }), 'not_found');
      await index.delete({ ids: ['b'] });
      await index.delete({ filter: { keep: false } });
      const left = await index.query({ vector: [0, 1], topK: 10 });
      assert.deepEqual(left.map((m) => m.id).sort(), ['a', 'd']);
      await index.delete({ deleteAll: true });
      assert.equal((await index.stats()).totalVectorCount, 0);
      assert.deepEqual(await index.query({ vector: [0, 1], topK: 10 }), []);
    });

    it('lists ids in order, by prefix, in pages', async () => {
      const index = await freshIndex(2);
      const ids = ['doc1#2', 'doc1#1', 'doc2#1', 'doc1#3', 'other'];
      await index.upsert(
        ids.map((id) => ({ id, values: [1, 0] })),
        'ns',
      );
      const first = await index.listIds({ namespace: 'ns', prefix: 'doc1#', limit: 2 });
      assert.deepEqual(first.ids, ['doc1#1', 'doc1#2']);
      assert.ok(first.next);
      const second = await index.listIds({ namespace: 'ns', prefix: 'doc1#', limit: 2, paginationToken: first.next });
      assert.deepEqual(second.ids, ['doc1#3']);
      assert.equal(second.next, undefined);
      assert.deepEqual((await index.listIds({ namespace: 'ns' })).ids, [
        'doc1#1',
        'doc1#2',
        'doc1#3',
        'doc2#1',
        'other',
      ]);
    });

    it('refuses bad input with errors naming the field', async () => {
      const index = await freshIndex(3);
      await rejectsWith(index.upsert([{ id: 'a', values: [1, 2] }]), 'validation_failed', 'vectors[0].values');
      await rejectsWith(
        index.upsert([{ id: 'a', values: [1, Number.NaN, 0] }]),
        'validation_failed',
        'vectors[0].values[1]',
      );
      await rejectsWith(
        index.upsert([{ id: 'a', values: [1, 0, Number.POSITIVE_INFINITY] }]),
        'validation_failed',
        'vectors[0].values[2]',
      );
      await rejectsWith(index.upsert([]), 'validation_failed', 'vectors');
      await rejectsWith(
        index.upsert(Array.from({ length: 1001 }, (_, i) => ({ id: `${i}`, values: [1, 0, 0] }))),
        'validation_failed',
        'vectors',
      );
      await rejectsWith(
        index.upsert([{ id: 'a', values: [1, 0, 0], metadata: { bad: { nested: 1 } as never } }]),
        'validation_failed',
        'vectors[0].metadata.bad',
      );
      await rejectsWith(index.query({ vector: [1, 0, 0], topK: 0 }), 'validation_failed', 'topK');
      await rejectsWith(index.query({ vector: [1, 0], topK: 1 }), 'validation_failed', 'vector');
      await rejectsWith(store.index(indexIdOf('never-made-index')).query({ vector: [1], topK: 1 }), 'not_found');
      const id = indexIdOf(uniqueName('dup').replaceAll('_', '-').toLowerCase());
      await store.createIndex(id, { dimension: 2, metric: 'cosine' });
      made.push(id);
      await rejectsWith(store.createIndex(id, { dimension: 2, metric: 'cosine' }), 'conflict');
      await store.dropIndex(id);
      await rejectsWith(store.dropIndex(id), 'not_found');
    });
  });
}
