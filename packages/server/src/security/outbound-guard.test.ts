import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { OutboundGuard } from './outbound-guard.ts';

describe('OutboundGuard', () => {
  let server: Server;
  let port: number;
  before(async () => {
    // 127.0.0.1 redirects to 127.0.0.2 (another loopback address, not allowed below).
    server = createServer((req, res) => {
      if (req.url === '/to-internal') {
        res.writeHead(302, { location: `http://127.0.0.2:${port}/secret` });
        res.end();
      } else if (req.url === '/to-metadata') {
        res.writeHead(307, { location: 'http://169.254.169.254/latest/meta-data/' });
        res.end();
      } else if (req.url === '/hop') {
        res.writeHead(301, { location: '/ok' });
        res.end();
      } else res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());

  const guard = new OutboundGuard({ allowedNetworks: ['127.0.0.1/32'], allowedHosts: [] });

  it('follows redirects only to allowed addresses, checking each hop', async () => {
    const ok = await guard.fetch(`http://127.0.0.1:${port}/hop`, { timeoutMs: 5_000 });
    assert.equal(await ok.text(), 'ok');
    for (const path of ['/to-internal', '/to-metadata']) {
      await assert.rejects(
        guard.fetch(`http://127.0.0.1:${port}${path}`, { timeoutMs: 5_000 }),
        (error: Error & { code?: string }) => {
          assert.equal(error.code, 'validation_failed');
          assert.match(error.message, /^redirect: .*internal address/);
          return true;
        },
      );
    }
  });

  it('checks the address at connect time too (a name that resolves inside is refused)', async () => {
    const strict = new OutboundGuard({ allowedNetworks: [], allowedHosts: [] });
    await assert.rejects(strict.fetch(`http://localhost:${port}/ok`, { timeoutMs: 5_000 }), /internal address/);
    // The connection's own lookup refuses it even when the URL check is skipped (DNS rebinding).
    const agentOnly = strict as unknown as { check: () => Promise<void> };
    agentOnly.check = async () => {};
    await assert.rejects(strict.fetch(`http://localhost:${port}/ok`, { timeoutMs: 5_000 }), (error: Error) => {
      const cause = (error as { cause?: Error }).cause;
      return /internal address/.test(`${error.message} ${cause?.message ?? ''}`);
    });
  });

  it('gives dispatchers a connector that refuses internal addresses when connecting (IP literals and names)', async () => {
    const strict = new Agent({
      connect: new OutboundGuard({ allowedNetworks: [], allowedHosts: [] }).connector({ timeout: 5_000 }),
    });
    const allowed = new Agent({ connect: guard.connector({ timeout: 5_000 }) });
    try {
      for (const url of [
        `http://127.0.0.1:${port}/ok`,
        `http://localhost:${port}/ok`,
        `http://[::ffff:127.0.0.1]:${port}/ok`,
      ]) {
        await assert.rejects(request(url, { dispatcher: strict }), /internal address/, url);
      }
      // 127.0.0.1/32 is allowed to `guard`: the same call goes through.
      const answer = await request(`http://127.0.0.1:${port}/ok`, { dispatcher: allowed });
      assert.equal(await answer.body.text(), 'ok');
    } finally {
      await Promise.all([strict.close(), allowed.close()]);
    }
  });

  it('gives SDKs a guarded fetch: URLs and Node Requests (the AWS SDK sends those), redirects checked when connecting', async () => {
    const strict = new OutboundGuard({ allowedNetworks: [], allowedHosts: [] });
    for (const input of [`http://localhost:${port}/ok`, new Request(`http://127.0.0.1:${port}/ok`)]) {
      await assert.rejects(strict.guardedFetch(input), (error: Error) => {
        const cause = (error as { cause?: Error & { details?: { reason?: string } } }).cause;
        assert.match(cause?.message ?? '', /an internal address Ensemble does not call/);
        assert.equal(cause?.details?.reason, 'internal_address');
        return true;
      });
    }
    // Allowed: a POST as a Node Request goes through; a redirect to 127.0.0.2 is refused when connecting.
    const posted = await guard.guardedFetch(
      new Request(`http://127.0.0.1:${port}/ok`, { method: 'POST', body: 'x', headers: { 'x-a': '1' } }),
    );
    assert.equal(await posted.text(), 'ok');
    await assert.rejects(guard.guardedFetch(`http://127.0.0.1:${port}/to-internal`), /fetch failed/);
  });

  it('takes an allow-list of hosts', async () => {
    const listed = new OutboundGuard({ allowedNetworks: ['127.0.0.0/8'], allowedHosts: ['.example.com', 'localhost'] });
    await listed.check(`http://localhost:${port}/`, 'url');
    await assert.rejects(listed.check('https://api.openai.com/v1', 'body.baseUrl'), /not in OUTBOUND_ALLOWED_HOSTS/);
    await assert.rejects(listed.check('ftp://example.com/', 'body.baseUrl'), /http\(s\)/);
  });
});
