import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchesCondition } from './match-condition.ts';
import type { RouteCondition } from './route-condition.ts';
import { routeConditionSchema } from './route-condition.ts';
import type { RouteContext } from './route-context.ts';

const context: RouteContext = {
  metadata: { plan: 'pro', region: 'eu', team: { name: 'search' }, seats: 12 },
  headers: { 'x-tier': 'gold', 'x-multi': ['a', 'b'] },
  key: { id: 'key_123', tags: ['beta', 'internal'] },
  params: { model: 'chat/default', max_tokens: 2000, stream: true, temperature: 0 },
};

function check(condition: RouteCondition, expected: boolean) {
  assert.ok(routeConditionSchema.safeParse(condition).success, JSON.stringify(condition));
  assert.equal(matchesCondition(condition, context), expected, JSON.stringify(condition));
}

describe('conditions', () => {
  it('$eq and literals, on metadata, headers, key and params', () => {
    check({ 'metadata.plan': 'pro' }, true);
    check({ 'metadata.plan': { $eq: 'free' } }, false);
    check({ 'metadata.team.name': 'search' }, true);
    check({ 'headers.x-tier': 'gold' }, true);
    check({ 'headers.X-Tier': 'gold' }, true);
    check({ 'key.id': 'key_123' }, true);
    check({ 'key.tags': 'beta' }, true);
    check({ 'params.stream': true }, true);
    check({ 'params.max_tokens': 2000 }, true);
    check({ 'params.model': 'chat/other' }, false);
    check({ 'metadata.missing': null }, true);
    check({ 'metadata.missing': 'x' }, false);
  });

  it('$ne, $in, $nin, with array fields matching any element', () => {
    check({ 'metadata.plan': { $ne: 'free' } }, true);
    check({ 'key.tags': { $ne: 'beta' } }, false);
    check({ 'metadata.region': { $in: ['us', 'eu'] } }, true);
    check({ 'metadata.region': { $in: ['us'] } }, false);
    check({ 'key.tags': { $in: ['internal', 'x'] } }, true);
    check({ 'headers.x-multi': { $in: ['b'] } }, true);
    check({ 'metadata.region': { $nin: ['us', 'ap'] } }, true);
    check({ 'key.tags': { $nin: ['beta'] } }, false);
    check({ 'metadata.missing': { $nin: ['x'] } }, true);
  });

  it('$gt, $gte, $lt, $lte compare like with like', () => {
    check({ 'params.max_tokens': { $gt: 1000 } }, true);
    check({ 'params.max_tokens': { $gt: 2000 } }, false);
    check({ 'params.max_tokens': { $gte: 2000 } }, true);
    check({ 'params.max_tokens': { $lt: 2000 } }, false);
    check({ 'params.max_tokens': { $lte: 2000, $gt: 100 } }, true);
    check({ 'metadata.region': { $gt: 'ap', $lt: 'us' } }, true);
    check({ 'params.max_tokens': { $gt: '1' } }, false);
    check({ 'metadata.missing': { $lt: 5 } }, false);
  });

  it('$exists and $regex', () => {
    check({ 'metadata.region': { $exists: true } }, true);
    check({ 'metadata.missing': { $exists: false } }, true);
    check({ 'key.id': { $exists: false } }, false);
    check({ 'params.model': { $regex: '^chat/' } }, true);
    check({ 'params.model': { $regex: '^embed/' } }, false);
    check({ 'key.tags': { $regex: '^int' } }, true);
    check({ 'params.max_tokens': { $regex: '2' } }, false);
  });

  it('$and, $or, $not and fields side by side', () => {
    check({ 'metadata.plan': 'pro', 'params.stream': true }, true);
    check({ 'metadata.plan': 'pro', 'params.stream': false }, false);
    check({ $and: [{ 'metadata.plan': 'pro' }, { 'key.tags': 'beta' }] }, true);
    check({ $and: [{ 'metadata.plan': 'pro' }, { 'key.tags': 'gamma' }] }, false);
    check({ $or: [{ 'metadata.plan': 'free' }, { 'headers.x-tier': 'gold' }] }, true);
    check({ $or: [{ 'metadata.plan': 'free' }, { 'headers.x-tier': 'silver' }] }, false);
    check({ $not: { 'metadata.plan': 'free' } }, true);
    check({ $not: { $or: [{ 'metadata.plan': 'pro' }] } }, false);
  });

  it('read nothing from an empty context', () => {
    assert.equal(matchesCondition({ 'metadata.plan': 'pro' }, {}), false);
    assert.equal(matchesCondition({ 'key.tags': { $exists: false } }, {}), true);
    assert.equal(matchesCondition({ 'headers.x-tier': { $in: ['gold'] } }, {}), false);
    assert.equal(matchesCondition({ 'metadata.__proto__': { $exists: true } }, { metadata: {} }), false);
  });

  it('reject malformed conditions', () => {
    const bad = [
      { 'metadata.a': [1, 2] },
      { 'metadata.a': { $in: 'x' } },
      { 'metadata.a': { $exists: 'yes' } },
      { 'metadata.a': { $eq: { nested: true } } },
      { 'metadata.a': {} },
      { $and: [] },
      { $not: 'x' },
      { key: 'x' },
      { 'key.secret': 'x' },
      { 'metadata.a': { $regex: 'x'.repeat(501) } },
    ];
    for (const condition of bad)
      assert.equal(routeConditionSchema.safeParse(condition).success, false, JSON.stringify(condition));
    let deep: RouteCondition = { 'metadata.a': 1 };
    for (let level = 0; level < 9; level += 1) deep = { $not: deep };
    assert.equal(routeConditionSchema.safeParse(deep).success, false);
  });
});
