import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Authentication } from '@ensemble/core';
import { VerifiedKeyCache } from './verified-key-cache.ts';

const answer = (keyId: string): Authentication => ({
  principal: { keyId, projectId: 'default', admin: false, role: 'developer', tags: [] },
});

describe('VerifiedKeyCache', () => {
  it('forgets answers after the TTL, and refuses a key from its expiry on', () => {
    let now = 1_000;
    const cache = new VerifiedKeyCache({ ttlMs: 100, maxEntries: 10, now: () => now });
    cache.set('h1', answer('k1'), cache.generation);
    cache.set('h2', answer('k2'), cache.generation, new Date(1_050));
    assert.deepEqual(cache.get('h1'), answer('k1'));
    now = 1_050;
    assert.deepEqual(cache.get('h2'), { failure: 'expired' });
    now = 1_100;
    assert.equal(cache.get('h1'), undefined);
  });

  it('holds at most maxEntries, dropping the oldest', () => {
    const cache = new VerifiedKeyCache({ ttlMs: 1_000, maxEntries: 2 });
    for (const id of ['a', 'b', 'c']) cache.set(id, answer(id), cache.generation);
    assert.equal(cache.size, 2);
    assert.equal(cache.get('a'), undefined);
    assert.ok(cache.get('c'));
  });

  it('keeps refusals apart, so made-up keys cannot push valid ones out', () => {
    const cache = new VerifiedKeyCache({ ttlMs: 1_000, maxEntries: 2 });
    cache.set('valid', answer('k1'), cache.generation);
    for (let i = 0; i < 10; i++) cache.set(`made-up-${i}`, { failure: 'unknown' }, cache.generation);
    assert.deepEqual(cache.get('valid'), answer('k1'));
    assert.deepEqual(cache.get('made-up-9'), { failure: 'unknown' });
    assert.equal(cache.get('made-up-0'), undefined);
    assert.equal(cache.size, 3);
  });

  it('evicts a revoked key, and drops what a lookup begun before the eviction read', () => {
    const cache = new VerifiedKeyCache({ ttlMs: 1_000, maxEntries: 10 });
    cache.set('h1', answer('k1'), cache.generation);
    cache.set('h2', answer('k2'), cache.generation);
    const before = cache.generation;
    cache.evictKey('k1');
    assert.equal(cache.get('h1'), undefined);
    assert.ok(cache.get('h2'), 'other keys stay');
    cache.set('h1', answer('k1'), before);
    assert.equal(cache.get('h1'), undefined, 'a stale lookup does not bring it back');
  });

  it('caches nothing with a TTL of 0', () => {
    const cache = new VerifiedKeyCache({ ttlMs: 0, maxEntries: 10 });
    cache.set('h1', answer('k1'), cache.generation);
    assert.equal(cache.get('h1'), undefined);
  });
});
