import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { openSecurityHarness, type SecurityHarness } from '../testing/security-harness.ts';

interface Entry {
  action: string;
  resourceId: string | null;
  actorKeyId: string;
  actorRole: string;
  sourceIp: string;
  route: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

// The audit log through a real `ensemble start`: changes recorded with before/after, secrets never.
describe('audit log', { timeout: 180_000 }, () => {
  let harness: SecurityHarness;
  const secrets: string[] = [];
  before(async () => {
    harness = await openSecurityHarness('audit_log');
  });
  after(() => harness?.close());

  const audit = async (query = '', headers = harness.keys.a.admin) => {
    const answer = await harness.call('GET', `/api/audit${query}`, headers);
    assert.equal(answer.status, 200, answer.text);
    return { entries: answer.body.data as Entry[], text: answer.text, nextCursor: answer.body.nextCursor };
  };

  it('records who changed what, when and from where, with the state before and after', async () => {
    const admin = harness.keys.a.admin;
    const must = async (method: string, path: string, body: unknown, status = 200) => {
      const answer = await harness.call(method, path, admin, body);
      assert.equal(answer.status, status, `${method} ${path}: ${answer.text}`);
      return answer.body;
    };
    const key = await must('POST', '/api/keys', { name: 'ci', role: 'viewer' }, 201);
    secrets.push(key.secret);
    await must(
      'POST',
      '/api/credentials',
      { name: 'openai-main', provider: 'openai', secret: 'sk-audit0123456789abcdef' },
      201,
    );
    secrets.push('sk-audit0123456789abcdef');
    await must(
      'POST',
      '/api/models',
      { name: 'acme/chat', kind: 'chat', provider: 'openai', providerModelId: 'gpt-4o-mini' },
      201,
    );
    await must('PATCH', '/api/models/acme%2Fchat', { description: 'the support bot' });
    await must('PUT', `/api/limits/keys/${key.id}`, { requestsPerMinute: 60 });
    await must('DELETE', `/api/keys/${key.id}`, undefined);
    // Refused and read-only calls are not changes.
    assert.equal((await harness.call('POST', '/api/keys', harness.keys.a.developer, { name: 'x' })).status, 403);
    await harness.call('GET', '/api/models', admin);

    // The harness's own setup (project B, keys of every role) comes before these six.
    const { entries: all, text } = await audit();
    const entries = all.slice(0, 6);
    assert.deepEqual(
      entries.map((entry) => entry.action),
      ['keys.delete', 'limits.keys.update', 'models.update', 'models.create', 'credentials.create', 'keys.create'],
    );
    for (const entry of entries) {
      assert.equal(entry.actorKeyId, harness.keyIds.a.admin);
      assert.equal(entry.actorRole, 'admin');
      assert.match(entry.sourceIp, /127\.0\.0\.1/);
    }
    const patched = entries.find((entry) => entry.action === 'models.update') as Entry;
    assert.equal(patched.resourceId, 'acme/chat');
    assert.equal(patched.before?.description, '');
    assert.equal(patched.after?.description, 'the support bot');
    const created = entries.find((entry) => entry.action === 'keys.create') as Entry;
    assert.equal(created.resourceId, key.id);
    assert.equal(created.before, null);
    assert.equal(created.after?.secret, '[redacted]');
    const revoked = entries.find((entry) => entry.action === 'keys.delete') as Entry;
    assert.equal(revoked.before?.revokedAt, null);
    assert.equal(revoked.route, 'DELETE /api/keys/:id');
    for (const secret of secrets) assert.ok(!text.includes(secret), 'no secret in the audit log');
  });

  it('filters and pages, only within the project, for admins only', async () => {
    const { entries } = await audit('?action=models.update');
    assert.deepEqual(
      entries.map((entry) => entry.action),
      ['models.update'],
    );
    assert.equal((await audit('?resourceId=acme%2Fchat')).entries.length, 2);
    assert.ok((await audit('?actorKeyId=key_0000000000000000')).entries.length === 0);
    const first = await audit('?limit=2');
    assert.equal(first.entries.length, 2);
    const second = await audit(`?limit=2&after=${first.nextCursor}`);
    assert.notEqual(second.entries[0]?.action, first.entries[0]?.action);
    const seenByB = await audit('', harness.keys.b.owner);
    assert.ok(
      seenByB.entries.every((entry) => entry.route === 'POST /api/keys' || entry.route === 'POST /api/users'),
      "project B sees only its own keys' and users' creation",
    );
    assert.ok(!seenByB.text.includes('acme/chat') && !seenByB.text.includes(harness.keyIds.a.admin));
    for (const role of ['viewer', 'developer'] as const) {
      assert.equal((await harness.call('GET', '/api/audit', harness.keys.a[role])).status, 403);
    }
    const bad = await harness.call('GET', '/api/audit?from=tomorrow', harness.keys.a.admin);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.param, 'querystring.from');
  });

  it('is append-only for the application’s own database role', async () => {
    const client = new pg.Client({ connectionString: harness.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ count: string }>('select count(*) from audit_log');
      assert.ok(Number(rows[0]?.count) >= 6);
      for (const statement of [
        "update audit_log set action = 'nothing'",
        'delete from audit_log',
        'truncate audit_log',
      ]) {
        await assert.rejects(client.query(statement), /append-only/, statement);
      }
    } finally {
      await client.end();
    }
  });
});
