import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { EnsembleApp } from './app-types.ts';
import { buildTestApp } from './testing/test-app.ts';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('request ids', () => {
  let app: EnsembleApp;
  before(async () => {
    ({ app } = await buildTestApp());
  });
  after(() => app.close());

  test('a sane incoming x-request-id is echoed', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-request-id': 'lb-1234:abc/DEF' },
    });
    assert.equal(response.headers['x-request-id'], 'lb-1234:abc/DEF');
  });

  test('without one, a UUID is generated and echoed', async () => {
    const response = await app.inject({ method: 'GET', url: '/healthz' });
    assert.match(String(response.headers['x-request-id']), uuid);
  });

  for (const [label, value] of [
    ['too long', 'a'.repeat(129)],
    ['with spaces', 'two words'],
    ['with quotes', 'x"y'],
    ['empty', ''],
  ] as const) {
    test(`an id ${label} is replaced by a UUID`, async () => {
      const response = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': value } });
      assert.match(String(response.headers['x-request-id']), uuid);
    });
  }

  test('an id of exactly 128 characters is kept', async () => {
    const id = 'b'.repeat(128);
    const response = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': id } });
    assert.equal(response.headers['x-request-id'], id);
  });

  test('error bodies carry the same id as the header', async () => {
    const response = await app.inject({ method: 'GET', url: '/nope', headers: { 'x-request-id': 'trace-9' } });
    assert.equal(response.headers['x-request-id'], 'trace-9');
    assert.equal((response.json() as { error: { request_id: string } }).error.request_id, 'trace-9');
  });

  test('ids are unique per request', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 20; i++) {
      ids.add(String((await app.inject({ method: 'GET', url: '/healthz' })).headers['x-request-id']));
    }
    assert.equal(ids.size, 20);
  });
});
