import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EnsembleApp } from '../../app-types.ts';
import { buildTestApp } from '../../testing/test-app.ts';
import { consoleModule } from './console-module.ts';

const indexHtml = `<!doctype html><html><head><script type="module" src="/assets/index-abc123.js"></script></head><body><div id="root"></div></body></html>`;
const script = `console.log(${JSON.stringify('x'.repeat(4000))});`;

describe('the console served at /', () => {
  let root: string;
  let app: EnsembleApp;
  let admin: { authorization: string };

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'ensemble-console-'));
    await mkdir(join(root, 'assets'));
    await writeFile(join(root, 'index.html'), indexHtml);
    await writeFile(join(root, 'assets/index-abc123.js'), script);
    await writeFile(join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    ({ app, admin } = await buildTestApp({ modules: [consoleModule({ root })] }));
  });
  after(async () => {
    await app.close();
    await rm(root, { recursive: true, force: true });
  });

  it('serves index.html at / revalidated every time, with its ETag answered by 304', async () => {
    const page = await app.inject({ url: '/' });
    assert.equal(page.statusCode, 200);
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(page.headers['cache-control'], 'no-cache');
    // Only its own scripts and styles, no framing: the browser tests check the built console runs under it.
    assert.match(String(page.headers['content-security-policy']), /script-src 'self'; style-src 'self'/);
    assert.match(String(page.headers['content-security-policy']), /frame-ancestors 'none'/);
    assert.equal(page.body, indexHtml);
    const again = await app.inject({ url: '/', headers: { 'if-none-match': String(page.headers.etag) } });
    assert.equal(again.statusCode, 304);
    assert.equal(again.body, '');
  });

  it('serves hashed assets as immutable for a year, compressed when the browser takes it', async () => {
    const plain = await app.inject({ url: '/assets/index-abc123.js' });
    assert.equal(plain.statusCode, 200);
    assert.equal(plain.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(plain.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(plain.body, script);
    const brotli = await app.inject({ url: '/assets/index-abc123.js', headers: { 'accept-encoding': 'gzip, br' } });
    assert.equal(brotli.headers['content-encoding'], 'br');
    assert.ok(brotli.rawPayload.length < script.length / 10);
    const gzip = await app.inject({ url: '/assets/index-abc123.js', headers: { 'accept-encoding': 'gzip' } });
    assert.equal(gzip.headers['content-encoding'], 'gzip');
    const icon = await app.inject({ url: '/favicon.svg' });
    assert.equal(icon.headers['content-type'], 'image/svg+xml');
    assert.equal(icon.headers['cache-control'], 'no-cache');
  });

  it("answers the app's own routes with index.html so a reload works", async () => {
    for (const url of ['/models', '/models/local/smollm2-135m-instruct', '/jobs?status=running']) {
      const page = await app.inject({ url });
      assert.equal(page.statusCode, 200, url);
      assert.equal(page.body, indexHtml, url);
    }
  });

  it('never shadows the APIs, the docs or the probes', async () => {
    for (const url of ['/api/nothing', '/v1/nothing', '/pinecone/nothing', '/docs/nothing', '/metrics', '/api']) {
      const response = await app.inject({ url, headers: admin });
      assert.equal(response.statusCode, 404, url);
      assert.match(response.headers['content-type'] ?? '', /application\/json/, url);
    }
    assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200);
    assert.equal((await app.inject({ url: '/openapi.json' })).statusCode, 200);
    const documented = (await app.inject({ url: '/openapi.json' })).json() as { paths: Record<string, unknown> };
    assert.ok(!Object.keys(documented.paths).some((path) => path.includes('*')), 'the fallback is not documented');
  });

  it('answers a missing asset with 404, not the page', async () => {
    assert.equal((await app.inject({ url: '/assets/index-old999.js' })).statusCode, 404);
    assert.equal((await app.inject({ url: '/robots.txt' })).statusCode, 404);
  });

  it('explains how to build the console when there is no build', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'ensemble-console-empty-'));
    const bare = await buildTestApp({ modules: [consoleModule({ root: empty })] });
    try {
      const page = await bare.app.inject({ url: '/' });
      assert.equal(page.statusCode, 503);
      assert.match(page.body, /npm run build -w @ensemble\/console/);
    } finally {
      await bare.app.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});
