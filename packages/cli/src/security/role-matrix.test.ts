import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { accessAllows, type ProjectRole, projectRoles, roleRuleFor } from '@ensemble/core';
import { openSecurityHarness, type SecurityHarness } from '../testing/security-harness.ts';

/** A value for a path parameter that passes no check in particular: the role check comes first. */
const placeholder = (name: string) =>
  name === 'id' ? 'key_0000000000000000' : name === 'sha256' ? '0'.repeat(64) : name === 'version' ? '1' : 'nothing';

// The role matrix, attacked over HTTP: every documented route × every role, against a real server.
describe('role matrix: every route × every role', { timeout: 240_000 }, () => {
  let harness: SecurityHarness;
  before(async () => {
    harness = await openSecurityHarness('role_matrix');
  });
  after(() => harness?.close());

  it('allows and refuses exactly as declared', async () => {
    const operations = await harness.operations();
    assert.ok(operations.length >= 40, `only ${operations.length} operations documented`);
    const wrong: string[] = [];
    let cases = 0;
    for (const operation of operations) {
      const url = operation.path.replaceAll(/\{(\w+)\}/g, (_, name: string) => placeholder(name));
      const rule = roleRuleFor(operation.method, operation.route);
      const callers: Array<[string, Record<string, string>, ProjectRole, boolean]> = [
        ...projectRoles.map(
          (role) => [role, harness.keys.a[role], role, false] as [string, Record<string, string>, ProjectRole, boolean],
        ),
        ['platform admin', harness.platform, 'owner', true],
        // The same roles held by console users signed in with a password (cookie and CSRF header); the
        // Pinecone-compatible API takes only keys (as Pinecone's SDKs send them), checked below.
        ...(operation.path.startsWith('/pinecone/') ? [] : projectRoles).map(
          (role) =>
            [`${role} session`, harness.sessions.a[role], role, false] as [
              string,
              Record<string, string>,
              ProjectRole,
              boolean,
            ],
        ),
      ];
      for (const [who, headers, role, platform] of callers) {
        cases += 1;
        const body = operation.method === 'GET' || operation.method === 'DELETE' ? undefined : {};
        const answer = await harness.call(operation.method, url, headers, body);
        const allowed = accessAllows(rule.access, role, platform);
        // Each API family answers in its own shape (Pinecone's has no `error.code` 'forbidden').
        const refused = answer.status === 403;
        if (allowed && answer.status === 403) wrong.push(`${operation.method} ${url} as ${who}: 403 ${answer.text}`);
        if (!allowed && !refused) wrong.push(`${operation.method} ${url} as ${who}: ${answer.status}, expected 403`);
        if (answer.status >= 500) wrong.push(`${operation.method} ${url} as ${who}: ${answer.status} ${answer.text}`);
      }
    }
    assert.deepEqual(wrong, []);
    console.log(`role matrix: ${operations.length} routes × ${2 * projectRoles.length + 1} callers = ${cases} cases`);
  });

  it('holds the lines that matter, stated independently of the matrix', async () => {
    const { a } = harness.keys;
    const expect = async (method: string, url: string, headers: Record<string, string>, status: 403 | 'not 403') => {
      const body = method === 'GET' || method === 'DELETE' ? undefined : {};
      const answer = await harness.call(method, url, headers, body);
      if (status === 403) assert.equal(answer.status, 403, `${method} ${url}`);
      else assert.notEqual(answer.status, 403, `${method} ${url}: ${answer.text}`);
    };
    // Viewers only read.
    await expect('GET', '/api/models', a.viewer, 'not 403');
    await expect('GET', '/api/models/nothing/history', a.viewer, 'not 403');
    await expect('GET', '/api/usage/records', a.viewer, 'not 403');
    await expect('POST', '/v1/chat/completions', a.viewer, 403);
    await expect('POST', '/v1/responses', a.viewer, 403);
    await expect('POST', '/api/models', a.viewer, 403);
    await expect('POST', '/api/jobs', a.viewer, 403);
    // Developers use and build, but do not manage access.
    await expect('POST', '/v1/chat/completions', a.developer, 'not 403');
    await expect('POST', '/v1/responses', a.developer, 'not 403');
    await expect('POST', '/api/routes', a.developer, 'not 403');
    await expect('POST', '/api/keys', a.developer, 403);
    await expect('GET', '/api/keys', a.developer, 403);
    await expect('POST', '/api/credentials', a.developer, 403);
    await expect('GET', '/api/jobs/webhook-secret', a.developer, 403);
    // Admins manage keys and credentials of their project, not the platform.
    await expect('POST', '/api/keys', a.admin, 'not 403');
    await expect('POST', '/api/credentials', a.admin, 'not 403');
    await expect('POST', '/api/projects', a.owner, 403);
    await expect('GET', '/api/projects', a.owner, 403);
    await expect('POST', '/api/credentials/rotate', a.owner, 403);
    // Any key may see and revoke itself.
    await expect('GET', `/api/keys/${harness.keyIds.a.viewer}`, a.viewer, 'not 403');
    await expect('GET', `/api/keys/${harness.keyIds.a.developer}`, a.viewer, 403);
    // Console users hold the same lines: only admins manage users; disabling an account is the platform's.
    const s = harness.sessions.a;
    await expect('GET', '/api/models', s.viewer, 'not 403');
    await expect('POST', '/api/models', s.viewer, 403);
    await expect('POST', '/api/routes', s.developer, 'not 403');
    await expect('GET', '/api/users', s.developer, 403);
    await expect('POST', '/api/users', s.admin, 'not 403');
    await expect('GET', '/api/keys', s.admin, 'not 403');
    await expect('POST', `/api/users/${harness.userIds.a.viewer}/disable`, s.developer, 403);
    await expect('POST', '/api/projects', s.owner, 403);
    const pinecone = await harness.call('GET', '/pinecone/indexes', s.owner);
    assert.equal(pinecone.status, 401, 'the Pinecone-compatible API takes no session cookie');
  });
});
