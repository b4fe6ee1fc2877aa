import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { runEnsemble } from '../testing/ensemble-process.ts';
import { openSecurityHarness, type SecurityHarness, signIn } from '../testing/security-harness.ts';

const adminEmail = 'first.admin@example.com';
const adminPassword = 'first admin password';

// Console users against real `ensemble start` processes sharing one database: the first user from the
// environment, sign-in, the cookie, CSRF, throttling across instances, sign-out, users management.
describe('console accounts: users, sessions, CSRF, throttling', { timeout: 300_000 }, () => {
  let harness: SecurityHarness;
  const login = (url: string, email: string, password: string) =>
    fetch(`${url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });

  before(async () => {
    harness = await openSecurityHarness('accounts', {
      env: {
        ENSEMBLE_ADMIN_EMAIL: adminEmail,
        ENSEMBLE_ADMIN_PASSWORD: adminPassword,
        AUTH_LOGIN_FAILURES_PER_ACCOUNT: '3',
        AUTH_LOGIN_FAILURES_PER_ADDRESS: '8',
        AUTH_FAILED_ATTEMPTS_PER_MINUTE: '10',
        // Revocations and role changes are read at once (the default trusts a session for 5 s).
        API_KEY_CACHE_TTL_MS: '0',
      },
    });
  });
  after(() => harness?.close());

  it('makes the first user from the environment and signs it in with a strict, HTTP-only cookie', async () => {
    const response = await login(harness.ensemble.url, 'First.Admin@Example.com', adminPassword);
    const body = (await response.json()) as { user: { email: string; platformAdmin: boolean }; csrfToken: string };
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body.user.email, adminEmail);
    assert.equal(body.user.platformAdmin, true);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const cookie = response.headers.get('set-cookie') ?? '';
    assert.match(cookie, /^ensemble_session=ses_[A-Za-z0-9]{43}; /);
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Strict/);
    assert.match(cookie, /; Path=\//);
    // Plain HTTP on a laptop: a Secure cookie would never be sent back (AUTH_COOKIE_SECURE forces it).
    assert.doesNotMatch(cookie, /Secure/);

    const me = await fetch(`${harness.ensemble.url}/api/auth/me`, {
      headers: { cookie: cookie.split(';')[0] as string },
    });
    const described = (await me.json()) as { roles: unknown; csrfToken: string };
    assert.equal(me.status, 200);
    assert.deepEqual(described.roles, [{ projectId: 'default', role: 'owner' }]);
    assert.equal(described.csrfToken, body.csrfToken);

    // Stored as scrypt with its parameters; sessions only as hashes.
    const client = new pg.Client({ connectionString: harness.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query('select password_hash from users where email = $1', [adminEmail]);
      assert.match(rows[0].password_hash, /^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
      const secret = /ensemble_session=([^;]+)/.exec(cookie)?.[1] as string;
      const { rows: plain } = await client.query(
        "select count(*)::int as n from user_sessions where encode(secret_sha256, 'escape') like $1",
        [`%${secret}%`],
      );
      assert.equal(plain[0].n, 0);
    } finally {
      await client.end();
    }
  });

  it('answers a wrong password exactly like an unknown account', async () => {
    const wrong = await login(harness.ensemble.url, 'a-viewer@example.com', 'not the password at all');
    const unknown = await login(harness.ensemble.url, 'nobody@example.com', 'not the password at all');
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    const strip = (text: string) => text.replace(/"request_id":"[^"]*"/, '');
    assert.equal(strip(await wrong.text()), strip(await unknown.text()));
    assert.equal(wrong.headers.get('set-cookie'), null);
  });

  it('refuses cookie-authenticated changes without the CSRF token, and reads need none', async () => {
    const session = harness.sessions.a.developer;
    const cookie = session.cookie as string;
    const model = {
      name: 'csrf/m',
      kind: 'chat',
      provider: 'openai-compatible',
      providerModelId: 'x',
      baseUrl: 'http://127.0.0.1:9/v1',
    };
    const missing = await harness.call('POST', '/api/models', { cookie }, model);
    assert.equal(missing.status, 403, missing.text);
    assert.equal(missing.body.error.details.reason, 'csrf');
    const forged = await harness.call('POST', '/api/models', { cookie, 'x-ensemble-csrf': 'x'.repeat(43) }, model);
    assert.equal(forged.status, 403);
    const made = await harness.call('POST', '/api/models', session, model);
    assert.equal(made.status, 201, made.text);
    assert.equal((await harness.call('GET', '/api/models/csrf/m', { cookie })).status, 200);
    // A made-up cookie is no session.
    const bogus = await harness.call('GET', '/api/models', { cookie: `ensemble_session=ses_${'A'.repeat(43)}` });
    assert.equal(bogus.status, 401);
    assert.equal(bogus.body.error.details.reason, 'session_unknown');
  });

  it('throttles failed sign-ins per account across instances, in PostgreSQL', async () => {
    const second = await harness.another();
    const email = 'a-admin@example.com';
    for (const url of [harness.ensemble.url, second.url, harness.ensemble.url]) {
      assert.equal((await login(url, email, 'wrong wrong wrong')).status, 401);
    }
    // The fourth try, on the other instance, is refused even with the right password.
    const refused = await login(second.url, email, 'correct horse a admin');
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    const body = (await refused.json()) as { error: { details: { reason: string } } };
    assert.equal(body.error.details.reason, 'login_failures');
    // Other accounts from this address still sign in (the address has 5 of its 8 failures left).
    assert.equal((await login(second.url, 'a-owner@example.com', 'correct horse a owner')).status, 200);
    // Past the address's limit, every account is refused from it.
    for (let i = 0; i < 5; i++) await login(harness.ensemble.url, `ghost${i}@example.com`, 'wrong wrong wrong');
    assert.equal((await login(second.url, 'a-owner@example.com', 'correct horse a owner')).status, 429);
    const client = new pg.Client({ connectionString: harness.databaseUrl });
    await client.connect();
    try {
      // Lift the address's count so the next tests can sign in.
      await client.query("delete from auth_failures where scope = 'login-address'");
    } finally {
      await client.end();
    }
  });

  it('ends a session at sign-out (with its CSRF token) and refuses it afterwards', async () => {
    const session = await signIn(harness.ensemble.url, 'a-viewer@example.com', 'correct horse a viewer');
    const cookie = session.cookie as string;
    assert.equal((await harness.call('GET', '/api/models', { cookie })).status, 200);
    const noToken = await harness.call('POST', '/api/auth/logout', { cookie });
    assert.equal(noToken.status, 403);
    const out = await harness.call('POST', '/api/auth/logout', session);
    assert.equal(out.status, 204);
    assert.match(out.headers.get('set-cookie') ?? '', /ensemble_session=; .*Max-Age=0/);
    const after = await harness.call('GET', '/api/models', { cookie });
    assert.equal(after.status, 401);
    assert.equal((await harness.call('GET', '/api/auth/me', { cookie })).status, 401);
  });

  it('manages users through /api/users: no escalation, audit-logged, disabling ends sessions', async () => {
    const admin = harness.sessions.a.admin;
    const created = await harness.call('POST', '/api/users', admin, {
      email: 'New.Dev@Example.com',
      password: 'a long enough password',
      role: 'developer',
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.email, 'new.dev@example.com');
    assert.equal(created.body.role, 'developer');
    assert.equal(created.body.password, undefined);
    const id = created.body.id as string;
    const taken = await harness.call('POST', '/api/users', admin, {
      email: 'new.dev@example.com',
      password: 'another long one',
    });
    assert.equal(taken.status, 409);
    // An admin may not make owners, nor platform admins.
    assert.equal((await harness.call('PUT', `/api/users/${id}/role`, admin, { role: 'owner' })).status, 403);
    const platform = await harness.call('POST', '/api/users', admin, {
      email: 'sneaky@example.com',
      password: 'a long enough password',
      platformAdmin: true,
    });
    assert.equal(platform.status, 403);
    const promoted = await harness.call('PUT', `/api/users/${id}/role`, admin, { role: 'admin' });
    assert.equal(promoted.status, 200);
    assert.equal(promoted.body.role, 'admin');
    const listed = await harness.call('GET', '/api/users', admin);
    assert.ok(listed.body.data.some((user: { id: string }) => user.id === id));
    assert.ok(!listed.body.data.some((user: { email: string }) => user.email.startsWith('b-')), 'B’s users listed');

    const session = await signIn(harness.ensemble.url, 'new.dev@example.com', 'a long enough password');
    assert.equal((await harness.call('GET', '/api/keys', session)).status, 200);
    const disabled = await harness.call('POST', `/api/users/${id}/disable`, admin);
    assert.equal(disabled.status, 200, disabled.text);
    assert.notEqual(disabled.body.disabledAt, null);
    assert.equal((await harness.call('GET', '/api/models', session)).status, 401);
    assert.equal((await login(harness.ensemble.url, 'new.dev@example.com', 'a long enough password')).status, 401);

    // Who did it is the signed-in user; the password never enters the log.
    const audit = await harness.call('GET', `/api/audit?resourceType=users&resourceId=${id}`, harness.keys.a.owner);
    assert.equal(audit.status, 200);
    const actions = audit.body.data.map((entry: { action: string }) => entry.action);
    for (const action of ['users.create', 'users.role.update', 'users.disable'])
      assert.ok(actions.includes(action), action);
    assert.ok(
      audit.body.data.every((entry: { actorUserId: string | null }) => entry.actorUserId === harness.userIds.a.admin),
    );
    assert.doesNotMatch(audit.text, /a long enough password/);
  });

  it('ensemble users: create (a generated password, once), list, set-role, remove', async () => {
    const client = { ENSEMBLE_URL: harness.ensemble.url, ENSEMBLE_API_KEY: harness.ensemble.adminKey as string };
    const created = await runEnsemble(['users', 'create', 'cli.user@example.com', '--role', 'viewer'], client);
    assert.equal(created.code, 0, created.output);
    const id = /usr_[A-Za-z0-9]{16}/.exec(created.output)?.[0] as string;
    const password = created.output.trim().split('\n').at(-1) as string;
    assert.equal((await login(harness.ensemble.url, 'cli.user@example.com', password)).status, 200);
    const listed = await runEnsemble(['users', 'list'], client);
    assert.match(listed.output, new RegExp(`${id}\\s+cli\\.user@example\\.com\\s+viewer\\s+password`));
    assert.doesNotMatch(listed.output, new RegExp(password));
    const changed = await runEnsemble(['users', 'set-role', id, 'developer'], client);
    assert.equal(changed.code, 0, changed.output);
    assert.match(changed.output, /is now developer in project default/);
    const removed = await runEnsemble(['users', 'remove', id], client);
    assert.equal(removed.code, 0, removed.output);
    assert.equal((await harness.call('GET', `/api/users/${id}`, harness.platform)).status, 404);
  });

  // Last: it leaves this address blocked on the instances it uses for the rest of the minute.
  it('counts failed API key attempts across instances: the limit holds for the sum, not per instance', async () => {
    const [one, two] = [await harness.another(), await harness.another()];
    const client = new pg.Client({ connectionString: harness.databaseUrl });
    await client.connect();
    try {
      // A fresh window: the tests above spent a few failures from this address.
      await client.query("delete from auth_failures where scope = 'key-address'");
    } finally {
      await client.end();
    }
    const bad = { authorization: 'Bearer ens_notARealKey0123456789abcdefghijklmnopqrstuv' };
    let refusedAfter = 0;
    for (let attempt = 0; attempt < 24; attempt++) {
      const answer = await harness.call('GET', `${(attempt % 2 === 0 ? one : two).url}/api/models`, bad);
      if (answer.status === 429) break;
      assert.equal(answer.status, 401);
      refusedAfter += 1;
    }
    // 10 a minute from this address in all, plus the one try of the instance that had not yet seen the
    // shared count; counted per instance it would be 20.
    assert.equal(refusedAfter, 11);
    for (const instance of [one, two]) {
      // Each instance learns the shared count at its next failure at the latest; then even a right key waits.
      await harness.call('GET', `${instance.url}/api/models`, bad);
      const blocked = await harness.call('GET', `${instance.url}/api/models`, harness.keys.a.viewer);
      assert.equal(blocked.status, 429);
      assert.equal(blocked.body.error.details.reason, 'failed_attempts');
    }
  });
});
