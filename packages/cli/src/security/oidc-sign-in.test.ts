import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '@ensemble/testkit';
import Provider from 'oidc-provider';
import { type EnsembleProcess, spawnEnsemble } from '../testing/ensemble-process.ts';

/** A free port on 127.0.0.1 (both ends must know the other's URL before starting). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/** The people the local provider knows, by login. */
const people: Record<string, { email: string; email_verified: boolean; name: string }> = {
  alice: { email: 'Alice@Example.com', email_verified: true, name: 'Alice' },
  mallory: { email: 'owner@example.com', email_verified: false, name: 'Not the owner' },
  'owner-at-idp': { email: 'owner@example.com', email_verified: true, name: 'The owner' },
};

/** A browser's cookies, by name (paths ignored: each test flow is short and one-site-at-a-time). */
class CookieJar {
  readonly #cookies = new Map<string, Map<string, string>>();
  take(url: string, response: Response): void {
    const host = new URL(url).host;
    const jar = this.#cookies.get(host) ?? new Map<string, string>();
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const separator = pair.indexOf('=');
      const [name, value] = [pair.slice(0, separator).trim(), pair.slice(separator + 1).trim()];
      if (value === '' || /max-age=0/i.test(line)) jar.delete(name);
      else jar.set(name, value);
    }
    this.#cookies.set(host, jar);
  }
  header(url: string): string {
    const jar = this.#cookies.get(new URL(url).host) ?? new Map();
    return [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
  }
  get(url: string, name: string): string | undefined {
    return this.#cookies.get(new URL(url).host)?.get(name);
  }
}

// OpenID Connect sign-in against a real local provider (`oidc-provider`), through a real `ensemble start`:
// the authorization code flow with PKCE, state and nonce, users matched by subject or verified email.
describe('OpenID Connect sign-in against a local oidc-provider', { timeout: 180_000 }, () => {
  let database: TestDatabase;
  let home: string;
  let ensemble: EnsembleProcess;
  let idp: Server;
  let issuer: string;

  before(async () => {
    const [idpPort, ensemblePort] = [await freePort(), await freePort()];
    issuer = `http://127.0.0.1:${idpPort}`;
    const redirectUri = `http://127.0.0.1:${ensemblePort}/api/auth/oidc/callback`;
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: 'ensemble-console',
          client_secret: 'a-test-client-secret-of-some-length',
          redirect_uris: [redirectUri],
          grant_types: ['authorization_code'],
          response_types: ['code'],
        },
      ],
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
      pkce: { required: () => true },
      cookies: { keys: ['a-test-cookie-signing-key'] },
      async findAccount(_ctx, id) {
        const person = people[id];
        if (person === undefined) return undefined;
        return { accountId: id, claims: async () => ({ sub: id, ...person }) };
      },
    });
    idp = createServer(provider.callback());
    await new Promise<void>((resolve) => idp.listen(idpPort, '127.0.0.1', resolve));

    database = await createTestDatabase('oidc');
    home = await mkdtemp(join(tmpdir(), 'ensemble-oidc-'));
    ensemble = await spawnEnsemble(['start', '--no-worker'], {
      DATABASE_URL: database.url,
      ENSEMBLE_HOME: home,
      PORT: String(ensemblePort),
      OIDC_ISSUER: issuer,
      OIDC_CLIENT_ID: 'ensemble-console',
      OIDC_CLIENT_SECRET: 'a-test-client-secret-of-some-length',
      OIDC_REDIRECT_URI: redirectUri,
      OIDC_DEFAULT_ROLE: 'developer',
      ENSEMBLE_ADMIN_EMAIL: 'owner@example.com',
      ENSEMBLE_ADMIN_PASSWORD: 'the owner password',
    });
  });
  after(async () => {
    if (ensemble !== undefined) assert.equal(await ensemble.stop(), 0, ensemble.output());
    await new Promise((resolve) => idp?.close(resolve));
    await database?.drop();
    if (home !== undefined) await rm(home, { recursive: true, force: true });
  });

  /** A browser going through the flow as `login`; the provider's own login (and consent) forms are posted. */
  async function signInAs(login: string, jar = new CookieJar(), tamper?: (url: URL) => void): Promise<Response> {
    const go = async (url: string, init: RequestInit = {}) => {
      const response = await fetch(url, {
        ...init,
        redirect: 'manual',
        headers: { ...(init.headers as Record<string, string>), cookie: jar.header(url) },
      });
      jar.take(url, response);
      return response;
    };
    let response = await go(`${ensemble.url}/api/auth/oidc/start`);
    assert.equal(response.status, 302, await response.text());
    let url = new URL(response.headers.get('location') as string);
    assert.equal(url.origin, issuer);
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(url.searchParams.get('state') && url.searchParams.get('nonce'));
    for (let hop = 0; hop < 12; hop++) {
      if (url.href.startsWith(`${ensemble.url}/api/auth/oidc/callback`)) {
        tamper?.(url);
        return go(url.href);
      }
      response = await go(url.href);
      if (response.status === 200 && url.pathname.startsWith('/interaction/')) {
        const page = await response.text();
        const prompt = /name="prompt" value="(\w+)"/.exec(page)?.[1];
        const form = new URLSearchParams(
          prompt === 'login' ? { prompt, login, password: 'any' } : { prompt: 'consent' },
        );
        response = await go(url.href, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: form.toString(),
        });
      }
      const location = response.headers.get('location');
      assert.ok(location, `no redirect from ${url.href}: ${response.status} ${await response.text()}`);
      url = new URL(location, url);
    }
    throw new Error('the flow did not come back to Ensemble');
  }

  it('signs a new user in with the default role, then finds the same account by its subject', async () => {
    const jar = new CookieJar();
    const done = await signInAs('alice', jar);
    assert.equal(done.status, 302, await done.text());
    assert.equal(done.headers.get('location'), '/');
    const cookies = done.headers.getSetCookie();
    assert.ok(
      cookies.some((line) => /^ensemble_session=ses_\w+; .*HttpOnly.*SameSite=Strict/.test(line)),
      cookies.join('\n'),
    );
    assert.ok(
      cookies.some((line) => /^ensemble_oidc=; .*Max-Age=0/.test(line)),
      'the one-time checks are cleared',
    );
    const me = await fetch(`${ensemble.url}/api/auth/me`, { headers: { cookie: jar.header(ensemble.url) } });
    const body = (await me.json()) as { user: { id: string; email: string; hasPassword: boolean }; roles: unknown };
    assert.equal(me.status, 200);
    assert.equal(body.user.email, 'alice@example.com');
    assert.equal(body.user.hasPassword, false);
    assert.deepEqual(body.roles, [{ projectId: 'default', role: 'developer' }]);
    // The session works on the API with that role.
    const models = await fetch(`${ensemble.url}/api/models`, { headers: { cookie: jar.header(ensemble.url) } });
    assert.equal(models.status, 200);

    const again = new CookieJar();
    assert.equal((await signInAs('alice', again)).status, 302);
    const second = await fetch(`${ensemble.url}/api/auth/me`, { headers: { cookie: again.header(ensemble.url) } });
    assert.equal(((await second.json()) as { user: { id: string } }).user.id, body.user.id);
  });

  it('refuses a callback whose state was changed, and one without the browser’s cookie', async () => {
    const changed = await signInAs('alice', new CookieJar(), (url) => url.searchParams.set('state', 'forged-state'));
    assert.equal(changed.status, 401, await changed.clone().text());
    assert.equal(
      changed.headers.getSetCookie().some((line) => line.startsWith('ensemble_session=ses_')),
      false,
    );

    // Another browser (no `ensemble_oidc` cookie) presenting a genuine code: login CSRF refused.
    let stolen: URL | undefined;
    await signInAs('alice', new CookieJar(), (url) => {
      stolen = new URL(url);
      url.searchParams.set('code', 'spent-on-purpose');
    });
    const elsewhere = await fetch(stolen?.href as string, { redirect: 'manual' });
    assert.equal(elsewhere.status, 401);
    const body = (await elsewhere.json()) as { error: { details: { reason: string } } };
    assert.equal(body.error.details.reason, 'oidc_state');
  });

  it('does not take over an existing account through an unverified email', async () => {
    const response = await signInAs('mallory');
    assert.equal(response.status, 401, await response.clone().text());
    const body = (await response.json()) as { error: { details: { reason: string } } };
    assert.equal(body.error.details.reason, 'oidc_account');
  });

  it('links an existing password account through the provider’s verified email', async () => {
    const jar = new CookieJar();
    assert.equal((await signInAs('owner-at-idp', jar)).status, 302);
    const me = await fetch(`${ensemble.url}/api/auth/me`, { headers: { cookie: jar.header(ensemble.url) } });
    const body = (await me.json()) as { user: { email: string; platformAdmin: boolean; hasPassword: boolean } };
    assert.equal(body.user.email, 'owner@example.com');
    assert.equal(body.user.platformAdmin, true);
    assert.equal(body.user.hasPassword, true);
    // Linked to that subject now: the unverified look-alike still gets nothing.
    assert.equal((await signInAs('mallory')).status, 401);
  });

  it('tells the console which sign-in methods exist', async () => {
    const providers = await fetch(`${ensemble.url}/api/auth/providers`);
    assert.deepEqual(await providers.json(), { password: true, oidc: true });
  });
});
