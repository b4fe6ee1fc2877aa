import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { EnsembleApp } from '../app-types.ts';
import { headerScheme } from '../auth/api-key-scheme.ts';
import type { InMemoryApiKeys } from '../testing/in-memory-api-keys.ts';
import type { LogCapture } from '../testing/log-capture.ts';
import { buildTestApp } from '../testing/test-app.ts';

/** Routes that show who is calling, under every prefix the plugin treats differently. */
const whoami: FastifyPluginAsyncZod = async (app) => {
  app.get('/api/whoami', async (request) => request.principal);
  app.post('/api/echo', async (request) => request.body);
  app.get('/api/admin-only', { config: { adminOnly: true } }, async () => ({ ok: true }));
  app.get('/v1/whoami', async (request) => request.principal);
  app.get('/apix', async (request) => ({ keyId: request.principal.keyId }));
};

/** A module bringing its own API family: its own key header and error shape, as Pinecone's will. */
const pineconeLike: FastifyPluginAsyncZod = async (app) => {
  app.requireApiKey('/pinecone', headerScheme('Api-Key'));
  app.registerErrorFormatter('/pinecone', (problem) => ({ code: problem.httpStatus, message: problem.message }));
  app.get('/pinecone/indexes', async (request) => ({ projectId: request.principal.projectId }));
};

describe('authentication', () => {
  let app: EnsembleApp;
  let keys: InMemoryApiKeys;
  let logs: LogCapture;
  let admin: { authorization: string };
  let member: { authorization: string };
  let memberSecret: string;

  before(async () => {
    ({ app, keys, logs, admin } = await buildTestApp({ modules: [whoami, pineconeLike] }));
    const created = await keys.add('default', { name: 'member', tags: ['tier:gold'], allowedModels: ['m1'] });
    memberSecret = created.secret;
    member = { authorization: `Bearer ${memberSecret}` };
  });
  after(() => app.close());

  const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });

  it('leaves probes, the API description and the docs open', async () => {
    for (const url of ['/healthz', '/readyz', '/openapi.json', '/docs', '/test/items?limit=1']) {
      const response = await get(url);
      assert.ok(response.statusCode < 400, `${url}: ${response.statusCode}`);
    }
    assert.equal((await get('/apix')).json().keyId, null, 'a prefix matches whole path segments only');
  });

  it('refuses a missing key with 401, WWW-Authenticate, in the OpenAI error shape', async () => {
    for (const url of ['/api/whoami', '/v1/whoami', '/v1/models', '/api/no-such-route', '/api']) {
      const response = await get(url);
      assert.equal(response.statusCode, 401, url);
      assert.equal(response.headers['www-authenticate'], 'Bearer');
      const { error } = response.json();
      assert.equal(error.type, 'authentication_error');
      assert.equal(error.code, 'unauthorized');
      assert.equal(error.param, 'headers.authorization');
      assert.equal(error.details.reason, 'missing');
      assert.match(error.message, /Authorization: Bearer <key>/);
    }
  });

  it('refuses malformed, unknown, expired and revoked keys, each saying which', async () => {
    const reasonFor = async (authorization: string) => {
      const response = await get('/v1/whoami', { authorization });
      assert.equal(response.statusCode, 401, authorization);
      assert.equal(response.headers['www-authenticate'], 'Bearer');
      return response.json().error.details.reason as string;
    };
    assert.equal(await reasonFor(`Basic ${Buffer.from('a:b').toString('base64')}`), 'malformed');
    assert.equal(await reasonFor('Bearer '), 'malformed');
    assert.equal(await reasonFor('Bearer short'), 'unknown');
    assert.equal(await reasonFor(`Bearer ens_${'A'.repeat(43)}`), 'unknown');
    assert.equal(await reasonFor(`Bearer ${memberSecret}x`), 'unknown');

    const expiring = await keys.add('default', {
      name: 'expiring',
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    assert.equal((await get('/v1/whoami', { authorization: `Bearer ${expiring.secret}` })).statusCode, 200);
    keys.now = () => Date.now() + 61_000;
    try {
      assert.equal(await reasonFor(`Bearer ${expiring.secret}`), 'expired');
    } finally {
      keys.now = Date.now;
    }

    const revoked = await keys.add('default', { name: 'revoked' });
    await keys.revoke('default', revoked.key.id);
    assert.equal(await reasonFor(`Bearer ${revoked.secret}`), 'revoked');
  });

  it('sets request.principal from the key, the scheme name in any case', async () => {
    const response = await get('/api/whoami', { authorization: member.authorization.replace('Bearer', 'bEARER') });
    assert.equal(response.statusCode, 200);
    const principal = response.json();
    assert.match(principal.keyId, /^key_/);
    assert.deepEqual(
      {
        projectId: principal.projectId,
        admin: principal.admin,
        tags: principal.tags,
        allowed: principal.allowedModels,
      },
      { projectId: 'default', admin: false, tags: ['tier:gold'], allowed: ['m1'] },
    );
  });

  it('answers 401 before reading a body, and 404 only to a caller with a key', async () => {
    const big = await app.inject({ method: 'POST', url: '/api/echo', payload: { text: 'x'.repeat(5_000) } });
    assert.equal(big.statusCode, 401, 'not 413: the body of an unauthenticated request is never read');
    assert.equal((await get('/api/no-such-route', admin)).statusCode, 404);
  });

  it('cannot be bypassed by encoding the path', async () => {
    for (const url of ['/%61pi/whoami', '/%76%31/whoami', '/api/%77hoami', '/API/whoami', '//api/whoami']) {
      const response = await get(url);
      assert.notEqual(response.statusCode, 200, url);
      if (response.statusCode === 200) assert.fail(`${url} answered without a key`);
    }
  });

  it('lets only admin keys call adminOnly routes (403 otherwise)', async () => {
    assert.equal((await get('/api/admin-only', admin)).statusCode, 200);
    const refused = await get('/api/admin-only', member);
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json().error.type, 'permission_error');
    assert.match(refused.json().error.message, /admin key/);
  });

  it('lets an admin key act on another project through x-ensemble-project, and no other key', async () => {
    const asAdmin = await get('/api/whoami', { ...admin, 'x-ensemble-project': 'team-a' });
    assert.equal(asAdmin.json().projectId, 'team-a');
    assert.equal(asAdmin.json().admin, true);

    const own = await get('/api/whoami', { ...member, 'x-ensemble-project': 'default' });
    assert.equal(own.statusCode, 200);
    const other = await get('/api/whoami', { ...member, 'x-ensemble-project': 'team-a' });
    assert.equal(other.statusCode, 404, 'another project does not exist for this key');
    assert.match(other.json().error.message, /project 'team-a' does not exist/);

    const invalid = await get('/api/whoami', { ...admin, 'x-ensemble-project': 'Not A Project' });
    assert.equal(invalid.statusCode, 400);
    assert.equal(invalid.json().error.param, 'headers.x-ensemble-project');
  });

  it('applies the role matrix: viewers read, developers also write', async () => {
    const viewer = await keys.add('default', { name: 'viewer', role: 'viewer' });
    const asViewer = { authorization: `Bearer ${viewer.secret}` };
    assert.equal((await get('/api/whoami', asViewer)).json().role, 'viewer');
    const write = await app.inject({ method: 'POST', url: '/api/echo', headers: asViewer, payload: { a: 1 } });
    assert.equal(write.statusCode, 403);
    assert.equal(write.json().error.details.reason, 'role');
    assert.match(
      write.json().error.message,
      /POST \/api\/echo needs the 'developer' role or above; this key is 'viewer'/,
    );
    const asMember = await app.inject({ method: 'POST', url: '/api/echo', headers: member, payload: { a: 1 } });
    assert.equal(asMember.statusCode, 200);
  });

  it('refuses a key outside its allowed source ranges, before anything else', async () => {
    const office = await keys.add('default', { name: 'office', allowedIps: ['10.1.0.0/16', '2001:db8::/32'] });
    const headers = { authorization: `Bearer ${office.secret}` };
    const from = (remoteAddress: string) => app.inject({ method: 'GET', url: '/api/whoami', headers, remoteAddress });
    for (const inside of ['10.1.2.3', '::ffff:10.1.200.1', '2001:db8::1']) {
      assert.equal((await from(inside)).statusCode, 200, inside);
    }
    for (const outside of ['10.2.0.1', '127.0.0.1', '::1', '2001:db9::1']) {
      const refused = await from(outside);
      assert.equal(refused.statusCode, 403, outside);
      assert.equal(refused.json().error.details.reason, 'source_address');
    }
  });

  it('takes a module’s own key header and error shape for its prefix', async () => {
    const missing = await get('/pinecone/indexes');
    assert.equal(missing.statusCode, 401);
    assert.equal(missing.headers['www-authenticate'], undefined);
    assert.deepEqual(missing.json(), { code: 401, message: "Missing API key: send it as 'Api-Key: <key>'" });
    const ok = await get('/pinecone/indexes', { 'api-key': memberSecret });
    assert.deepEqual(ok.json(), { projectId: 'default' });
    assert.equal((await get('/pinecone/indexes', { authorization: member.authorization })).statusCode, 401);
  });

  it('documents which routes need which key, so /docs can send one', async () => {
    const document = (await get('/openapi.json')).json() as {
      paths: Record<string, Record<string, { security?: unknown }>>;
      components: { securitySchemes: Record<string, { type: string; scheme?: string; name?: string }> };
    };
    assert.deepEqual(document.paths['/api/whoami']?.get?.security, [{ apiKey: [] }]);
    assert.deepEqual(document.paths['/pinecone/indexes']?.get?.security, [{ apiKeyInApiKey: [] }]);
    assert.equal(document.paths['/healthz']?.get?.security, undefined);
    assert.deepEqual(document.components.securitySchemes.apiKey, {
      type: 'http',
      scheme: 'bearer',
      description: 'An Ensemble API key (`ens_…`)',
    });
    assert.equal(document.components.securitySchemes.apiKeyInApiKey?.name, 'Api-Key');
  });

  it('never writes a key to the log', async () => {
    await get('/v1/whoami', member);
    await get('/v1/whoami', { authorization: `Bearer ${memberSecret}x` });
    await get('/pinecone/indexes', { 'api-key': memberSecret });
    assert.ok(logs.lines.length > 0);
    assert.ok(!logs.text.includes(memberSecret), 'the secret appears nowhere in the logs');
    assert.ok(!logs.text.includes(admin.authorization.slice(7)));
  });
});

describe('authentication: failed key attempts', () => {
  it('refuses an address after too many wrong keys (429, Retry-After), before any lookup; others go on', async () => {
    const { app, admin } = await buildTestApp({ config: { auth: { failedAttemptsPerMinute: 3 } } });
    try {
      const from = (remoteAddress: string, authorization: string) =>
        app.inject({ method: 'GET', url: '/v1/models', headers: { authorization }, remoteAddress });
      const wrong = `Bearer ens_${'x'.repeat(43)}`;
      for (let i = 0; i < 3; i++) assert.equal((await from('198.51.100.7', wrong)).statusCode, 401);
      const blocked = await from('198.51.100.7', wrong);
      assert.equal(blocked.statusCode, 429);
      assert.equal(blocked.json().error.code, 'rate_limited');
      assert.ok(Number(blocked.headers['retry-after']) > 0);
      assert.equal(
        (await from('198.51.100.7', admin.authorization)).statusCode,
        429,
        'even a right key, until the minute ends',
      );
      assert.equal(
        (await from('198.51.100.8', admin.authorization)).statusCode,
        404, // authenticated; this test app has no /v1 routes
        'another address is not affected',
      );
    } finally {
      await app.close();
    }
  });
});
