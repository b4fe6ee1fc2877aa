import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EnsembleError } from '../errors/ensemble-error.ts';
import { compileMetadataFilter } from './metadata-filter.ts';
import type { VectorMetadata } from './vector-record.ts';

const movies: Record<string, VectorMetadata> = {
  a: { genre: 'comedy', year: 2019, tags: ['funny', 'short'], rated: true },
  b: { genre: 'drama', year: 2021, tags: ['long'] },
  c: { genre: 'comedy', year: 2023 },
  d: {},
};

function matching(filter: unknown): string[] {
  const predicate = compileMetadataFilter(filter);
  return Object.entries(movies)
    .filter(([, metadata]) => predicate(metadata))
    .map(([id]) => id);
}

describe('compileMetadataFilter', () => {
  it('treats a bare value as $eq and several keys as AND', () => {
    assert.deepEqual(matching({ genre: 'comedy' }), ['a', 'c']);
    assert.deepEqual(matching({ genre: 'comedy', year: { $gt: 2020 } }), ['c']);
    assert.deepEqual(matching({}), ['a', 'b', 'c', 'd']);
  });

  it('compares numbers', () => {
    assert.deepEqual(matching({ year: { $gte: 2021 } }), ['b', 'c']);
    assert.deepEqual(matching({ year: { $lt: 2021 } }), ['a']);
    assert.deepEqual(matching({ year: { $lte: 2021, $gt: 2019 } }), ['b']);
  });

  it('matches lists when any element matches, and $ne/$nin when none does', () => {
    assert.deepEqual(matching({ tags: 'funny' }), ['a']);
    assert.deepEqual(matching({ tags: { $in: ['long', 'short'] } }), ['a', 'b']);
    assert.deepEqual(matching({ tags: { $nin: ['short'] } }), ['b', 'c', 'd']);
    assert.deepEqual(matching({ tags: { $ne: 'long' } }), ['a', 'c', 'd']);
  });

  it('supports $exists, $and and $or', () => {
    assert.deepEqual(matching({ rated: { $exists: true } }), ['a']);
    assert.deepEqual(matching({ genre: { $exists: false } }), ['d']);
    assert.deepEqual(matching({ $or: [{ genre: 'drama' }, { year: 2023 }] }), ['b', 'c']);
    assert.deepEqual(matching({ $and: [{ genre: 'comedy' }, { $or: [{ rated: true }, { year: { $gt: 2022 } }] }] }), [
      'a',
      'c',
    ]);
  });

  it('names the bad operator or field in its error', () => {
    const cases: [unknown, string, RegExp][] = [
      [{ genre: { $regex: 'com' } }, 'filter.genre.$regex', /unknown operator '\$regex'/],
      [{ $not: { genre: 'x' } }, 'filter.$not', /unknown operator '\$not'/],
      [{ year: { $gt: 'x' } }, 'filter.year.$gt', /finite number/],
      [{ genre: { $in: 'comedy' } }, 'filter.genre.$in', /list/],
      [{ genre: { $in: [{}] } }, 'filter.genre.$in[0]', /string/],
      [{ $or: [] }, 'filter.$or', /non-empty list/],
      [{ $and: [{ a: { $exists: 'yes' } }] }, 'filter.$and[0].a.$exists', /true or false/],
      [{ genre: null }, 'filter.genre', /string/],
      [{ genre: {} }, 'filter.genre', /at least one operator/],
      [[1], 'filter', /object/],
    ];
    for (const [filter, field, message] of cases) {
      assert.throws(
        () => compileMetadataFilter(filter),
        (error: unknown) =>
          EnsembleError.isInstance(error) &&
          error.code === 'validation_failed' &&
          error.field === field &&
          message.test(error.message),
        JSON.stringify(filter),
      );
    }
  });
});
