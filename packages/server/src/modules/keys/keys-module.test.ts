import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EnsembleApp } from '../../app-types.ts';
import { InMemoryApiKeys } from '../../testing/in-memory-api-keys.ts';
import type { LogCapture } from '../../testing/log-capture.ts';
import { buildTestApp } from '../../testing/test-app.ts';
import { keysModule } from './keys-module.ts';

type Headers = Record<string, string>;

describe('/api/keys', () => {
  let app: EnsembleApp;
  let keys: InMemoryApiKeys;
  let logs: LogCapture;
  let admin: Headers;

  before(async () => {
    keys = new InMemoryApiKeys(['default', 'team-a']);
    ({ app, logs, admin } = await buildTestApp({ keys, modules: [keysModule(keys)] }));
  });
  after(() => app.close());

  const call = async (method: 'GET' | 'POST' | 'DELETE', url: string, headers: Headers, payload?: object) => {
    const response = await app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });
    return { status: response.statusCode, headers: response.headers, body: response.json() };
  };
  const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

  it('creates a key and shows its secret in that response only', async () => {
    const created = await call('POST', '/api/keys', admin, {
      name: 'ci',
      allowedModels: ['openai/gpt-4o-mini'],
      tags: ['team:ml'],
      expiresAt: '2999-01-01T00:00:00Z',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.headers['cache-control'], 'no-store');
    const { secret, ...key } = created.body;
    assert.match(secret, /^ens_[A-Za-z0-9]{43}$/);
    assert.equal(key.prefix, `${secret.slice(0, 8)}…`);
    assert.deepEqual(
      [key.projectId, key.admin, key.role, key.allowedModels, key.tags, key.expiresAt, key.revokedAt, key.bootstrap],
      ['default', false, 'developer', ['openai/gpt-4o-mini'], ['team:ml'], '2999-01-01T00:00:00.000Z', null, false],
    );

    const one = await call('GET', `/api/keys/${key.id}`, admin);
    const list = await call('GET', '/api/keys', admin);
    assert.equal(one.status, 200);
    assert.equal(list.status, 200);
    assert.ok(list.body.data.some((listed: { id: string }) => listed.id === key.id));
    for (const body of [one.body, list.body]) {
      const text = JSON.stringify(body);
      assert.ok(!text.includes(secret.slice(8)), 'never the secret again');
      assert.ok(!text.includes('"secret"'));
    }
    assert.deepEqual({ ...one.body, lastUsedAt: null }, { ...key, lastUsedAt: null });
    assert.ok(!logs.text.includes(secret), 'nor in the log');

    const used = await call('GET', `/api/keys/${key.id}`, bearer(secret));
    assert.equal(used.status, 200, 'the new key works at once');
  });

  it('refuses bodies that are wrong, naming the field', async () => {
    const cases: Array<[object, string]> = [
      [{}, 'body.name'],
      [{ name: '  ' }, 'body.name'],
      [{ name: 'x', expiresAt: '2001-01-01T00:00:00Z' }, 'body.expiresAt'],
      [{ name: 'x', expiresAt: 'tomorrow' }, 'body.expiresAt'],
      [{ name: 'x', allowedModels: [] }, 'body.allowedModels'],
      [{ name: 'x', allowedModels: ['a', 'a'] }, 'body.allowedModels'],
      [{ name: 'x', tags: ['has space'] }, 'body.tags[0]'],
      [{ name: 'x', admin: 'yes' }, 'body.admin'],
      [{ name: 'x', projectId: 'team-a' }, 'body.projectId'],
    ];
    for (const [payload, param] of cases) {
      const response = await call('POST', '/api/keys', admin, payload);
      assert.equal(response.status, 400, JSON.stringify(payload));
      assert.equal(response.body.error.param, param, JSON.stringify(payload));
    }
    assert.equal((await call('GET', '/api/keys/not-a-key-id', admin)).status, 400);
    assert.equal((await call('GET', '/api/keys/key_0000000000000000', admin)).status, 404);
  });

  it('lets only admin-role keys create keys and revoke others; any key may revoke itself', async () => {
    const member = await keys.add('default', { name: 'member' });
    const other = await keys.add('default', { name: 'other' });
    const asMember = bearer(member.secret);

    const refused = await call('POST', '/api/keys', asMember, { name: 'sneaky', admin: true });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.type, 'permission_error');
    assert.equal((await call('DELETE', `/api/keys/${other.key.id}`, asMember)).status, 403);
    assert.equal((await call('GET', `/api/keys/${other.key.id}`, asMember)).status, 403, 'only admins see others');
    assert.equal((await call('GET', `/api/keys/${member.key.id}`, asMember)).status, 200, 'a key may see itself');

    const selfRevoked = await call('DELETE', `/api/keys/${member.key.id}`, asMember);
    assert.equal(selfRevoked.status, 200);
    assert.ok(selfRevoked.body.revokedAt);
    const after = await call('GET', '/api/keys', asMember);
    assert.equal(after.status, 401);
    assert.equal(after.body.error.details.reason, 'revoked');

    const revoked = await call('DELETE', `/api/keys/${other.key.id}`, admin);
    assert.equal(revoked.status, 200);
    const again = await call('DELETE', `/api/keys/${other.key.id}`, admin);
    assert.equal(again.body.revokedAt, revoked.body.revokedAt, 'revoking twice changes nothing');
    assert.equal((await call('GET', '/api/keys', bearer(other.secret))).status, 401);
  });

  it('never grants more than the creator holds', async () => {
    const projectAdmin = bearer((await keys.add('default', { name: 'project admin', role: 'admin' })).secret);
    const made = await call('POST', '/api/keys', projectAdmin, { name: 'dev', role: 'developer' });
    assert.equal(made.status, 201);
    assert.equal(made.body.role, 'developer');
    for (const [payload, param] of [
      [{ name: 'o', role: 'owner' }, 'body.role'],
      [{ name: 'p', admin: true }, 'body.admin'],
    ] as const) {
      const refused = await call('POST', '/api/keys', projectAdmin, payload);
      assert.equal(refused.status, 403, JSON.stringify(payload));
      assert.equal(refused.body.error.param, param);
    }
    const contradictory = await call('POST', '/api/keys', admin, { name: 'x', admin: true, role: 'viewer' });
    assert.equal(contradictory.status, 400);
    assert.equal(contradictory.body.error.param, 'body.role');
    const badRange = await call('POST', '/api/keys', admin, { name: 'x', allowedIps: ['10.0.0.0/33'] });
    assert.equal(badRange.status, 400);
    assert.equal(badRange.body.error.param, 'body.allowedIps[0]');
  });

  it('keeps keys within their project; an admin key picks another with x-ensemble-project', async () => {
    const inTeam = await call(
      'POST',
      '/api/keys',
      { ...admin, 'x-ensemble-project': 'team-a' },
      { name: 'team', role: 'admin' },
    );
    assert.equal(inTeam.status, 201);
    assert.equal(inTeam.body.projectId, 'team-a');
    const teamKey = bearer(inTeam.body.secret);

    const teamList = await call('GET', '/api/keys', teamKey);
    assert.deepEqual(
      teamList.body.data.map((key: { name: string }) => key.name),
      ['team'],
    );
    const defaultIds = (await call('GET', '/api/keys', admin)).body.data.map((key: { id: string }) => key.id);
    assert.ok(!defaultIds.includes(inTeam.body.id));
    assert.equal((await call('GET', `/api/keys/${inTeam.body.id}`, admin)).status, 404, 'not in the default project');
    const firstDefaultKey = defaultIds[0] as string;
    assert.equal((await call('GET', `/api/keys/${firstDefaultKey}`, teamKey)).status, 404);
    // Another project does not exist for a project's key: 404, as for any id it cannot see.
    assert.equal((await call('GET', '/api/keys', { ...teamKey, 'x-ensemble-project': 'default' })).status, 404);

    const nowhere = await call('POST', '/api/keys', { ...admin, 'x-ensemble-project': 'nowhere' }, { name: 'x' });
    assert.equal(nowhere.status, 404);
    assert.match(nowhere.body.error.message, /project 'nowhere'/);
  });

  it('pages through the list', async () => {
    for (const name of ['p1', 'p2', 'p3']) await keys.add('team-a', { name });
    const teamAdmin = { ...admin, 'x-ensemble-project': 'team-a' };
    const first = await call('GET', '/api/keys?limit=2', teamAdmin);
    assert.deepEqual(
      first.body.data.map((key: { name: string }) => key.name),
      ['p3', 'p2'],
    );
    const second = await call('GET', `/api/keys?limit=2&after=${first.body.nextCursor}`, teamAdmin);
    assert.deepEqual(
      second.body.data.map((key: { name: string }) => key.name),
      ['p1', 'team'],
    );
    assert.equal(second.body.nextCursor, null);
  });
});
