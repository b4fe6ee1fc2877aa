import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { EnsembleError } from '@ensemble/core';
import { AllowListPipelineHttp } from './allow-list-http.ts';

describe('http steps call only allowed URLs', () => {
  let server: Server;
  let base: string;
  const received: Array<{ method: string; url: string; body: string }> = [];

  before(async () => {
    server = createServer(async (request, response) => {
      let body = '';
      for await (const chunk of request) body += chunk;
      received.push({ method: request.method ?? '', url: request.url ?? '', body });
      if (request.url === '/json') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ echoed: body === '' ? null : JSON.parse(body) }));
      } else if (request.url === '/down') {
        response.writeHead(503);
        response.end('busy');
      } else if (request.url === '/moved') {
        response.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data' });
        response.end();
      } else if (request.url === '/huge') {
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.end('x'.repeat(2 * 1024 * 1024));
      } else {
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.end('plain text');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise((resolve) => server.close(resolve)));

  const call = (http: AllowListPipelineHttp, path: string, method: 'GET' | 'POST' = 'GET', body?: unknown) =>
    http.request({ url: `${base}${path}`, method, body, signal: AbortSignal.timeout(5_000) });

  it('refuses everything when nothing is allowed, and URLs outside the prefixes', async () => {
    assert.match(new AllowListPipelineHttp([]).refusal(`${base}/json`) ?? '', /http steps are off/);
    const http = new AllowListPipelineHttp([`${base}/json`]);
    assert.equal(http.refusal(`${base}/json`), undefined);
    assert.match(http.refusal(`${base}/other`) ?? '', /not under an allowed URL prefix/);
    await assert.rejects(call(http, '/other'), (error: EnsembleError) => error.code === 'forbidden');
    assert.equal(received.length, 0, 'nothing was sent');
  });

  it('posts JSON and reads JSON or text; failures say whether a retry may help; redirects are not followed', async () => {
    const http = new AllowListPipelineHttp([`${base}/`]);
    assert.deepEqual(await call(http, '/json', 'POST', { a: 1 }), { echoed: { a: 1 } });
    assert.equal(await call(http, '/text'), 'plain text');
    await assert.rejects(
      call(http, '/down'),
      (error: EnsembleError) => error.code === 'upstream_error' && error.retryable,
    );
    await assert.rejects(
      call(http, '/moved'),
      (error: EnsembleError) => /answered 302/.test(error.message) && !error.retryable,
    );
    await assert.rejects(call(http, '/huge'), /more than 1048576 bytes/);
    assert.ok(!received.some((request) => request.url.includes('meta-data')));
  });
});
