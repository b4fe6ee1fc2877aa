import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cacheKey, requestFingerprint } from './cache-key.ts';
import { ResponseCache } from './response-cache.ts';

const answer = (text: string) => ({
  body: Buffer.from(text),
  contentType: 'application/json',
  inputTokens: 1,
  outputTokens: 2,
});

describe('ResponseCache', () => {
  it('answers until the time to live runs out', () => {
    let now = 0;
    const cache = new ResponseCache({ ttlMs: 100, maxBytes: 1_000_000, now: () => now });
    cache.set('k', answer('a'));
    now = 99;
    assert.equal(cache.get('k')?.body.toString(), 'a');
    now = 100;
    assert.equal(cache.get('k'), undefined);
    assert.equal(cache.size, 0);
    assert.equal(cache.bytes, 0);
  });

  it('keeps within its byte bound, dropping the least recently used first', () => {
    // Each entry is 400 bytes of answer plus its key, type and a fixed overhead: 617 bytes; 4 fit.
    const cache = new ResponseCache({ ttlMs: 60_000, maxBytes: 2_470 });
    const sized = (name: string) => answer(name.repeat(400));
    for (const name of ['a', 'b', 'c', 'd']) cache.set(name, sized(name));
    assert.equal(cache.size, 4);
    assert.ok(cache.get('a') !== undefined); // a is now the most recently used
    cache.set('e', sized('e'));
    assert.ok(cache.bytes <= 2_470);
    assert.equal(cache.get('b'), undefined, 'b was the least recently used');
    for (const name of ['a', 'c', 'd', 'e']) assert.ok(cache.get(name) !== undefined, name);
  });

  it('does not keep an answer larger than a quarter of the bound', () => {
    const cache = new ResponseCache({ ttlMs: 60_000, maxBytes: 1_000 });
    cache.set('huge', answer('x'.repeat(400)));
    assert.equal(cache.size, 0);
  });
});

describe('cache keys', () => {
  it('one request whatever the order of its keys, or who asks; another project, model or endpoint is another', () => {
    const body = { model: 'm', messages: [{ role: 'user', content: 'hi' }], temperature: 0 };
    const reordered = { temperature: 0, messages: [{ content: 'hi', role: 'user' }], model: 'm', user: 'u-1' };
    const fingerprint = requestFingerprint(body);
    assert.equal(requestFingerprint(reordered), fingerprint);
    const key = cacheKey('default', 'chat', 'm@1', fingerprint);
    assert.notEqual(cacheKey('other', 'chat', 'm@1', fingerprint), key);
    assert.notEqual(cacheKey('default', 'chat', 'm@2', fingerprint), key);
    assert.notEqual(cacheKey('default', 'embeddings', 'm@1', fingerprint), key);
    assert.notEqual(requestFingerprint({ ...body, temperature: 1 }), fingerprint);
    assert.notEqual(requestFingerprint({ ...body, stream: true }), fingerprint);
  });
});
