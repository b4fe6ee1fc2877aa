import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EnsembleApp } from '../app-types.ts';
import { buildTestApp } from '../testing/test-app.ts';

describe('security headers and CORS', () => {
  let app: EnsembleApp;
  let admin: { authorization: string };
  before(async () => {
    ({ app, admin } = await buildTestApp({ config: { server: { corsOrigins: ['https://console.example.com'] } } }));
  });
  after(() => app.close());

  it('sends the security headers on every answer, errors included', async () => {
    for (const [url, headers] of [
      ['/healthz', {}],
      ['/api/keys', {}],
      ['/api/nothing', admin],
    ] as const) {
      const response = await app.inject({ method: 'GET', url, headers });
      assert.equal(response.headers['x-content-type-options'], 'nosniff', url);
      assert.equal(response.headers['x-frame-options'], 'DENY', url);
      assert.equal(response.headers['referrer-policy'], 'no-referrer', url);
      assert.equal(response.headers['access-control-allow-origin'], undefined, url);
    }
  });

  it('answers preflights of configured origins only, before authentication', async () => {
    const preflight = (origin: string) =>
      app.inject({
        method: 'OPTIONS',
        url: '/v1/chat/completions',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
      });
    const allowed = await preflight('https://console.example.com');
    assert.equal(allowed.statusCode, 204);
    assert.equal(allowed.headers['access-control-allow-origin'], 'https://console.example.com');
    assert.match(String(allowed.headers['access-control-allow-headers']), /authorization/);
    assert.equal(allowed.headers.vary, 'Origin');
    const other = await preflight('https://evil.example.net');
    assert.equal(other.statusCode, 403);
    assert.equal(other.headers['access-control-allow-origin'], undefined);

    const call = await app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { origin: 'https://console.example.com' },
    });
    assert.equal(call.headers['access-control-allow-origin'], 'https://console.example.com');
    assert.match(String(call.headers['access-control-expose-headers']), /x-ratelimit-remaining-requests/);
  });
});
