import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { type EnsembleProcess, spawnEnsemble } from '../../cli/src/testing/ensemble-process.ts';
import { buildConsole } from '../scripts/build.ts';
import { launchChromium, openPage } from './browser.ts';

const email = 'console.owner@example.com';
const password = 'a console owner password';

// Password sign-in in real Chromium against a real `ensemble start` whose first user comes from the
// environment: the session is an HTTP-only cookie the page cannot read, changes carry the CSRF token.
describe('console sign-in with a password', { timeout: 300_000 }, () => {
  let home: string;
  let ensemble: EnsembleProcess;
  let browser: Browser;

  before(async () => {
    await buildConsole({ quiet: true });
    home = await mkdtemp(join(tmpdir(), 'ensemble-console-sign-in-'));
    // The embedded PostgreSQL runs as 'postgres' when the tests run as root.
    await chmod(home, 0o755);
    [ensemble, browser] = await Promise.all([
      spawnEnsemble(['start', '--no-worker'], {
        ENSEMBLE_HOME: home,
        ENSEMBLE_BUILT_IN_MODELS: 'off',
        ENSEMBLE_ADMIN_EMAIL: email,
        ENSEMBLE_ADMIN_PASSWORD: password,
      }),
      launchChromium(),
    ]);
  });
  after(async () => {
    await browser?.close();
    if (ensemble) assert.equal(await ensemble.stop('SIGTERM'), 0, ensemble.output());
    await rm(home, { recursive: true, force: true });
  });

  it('refuses a wrong password, signs in, keeps the session over a reload, makes a change, and signs out', async () => {
    const { context, page, problems } = await openPage(browser);
    try {
      const loaded = await page.goto(ensemble.url);
      // The console runs under its Content-Security-Policy (a violation would be a console error below).
      assert.match(loaded?.headers()['content-security-policy'] ?? '', /script-src 'self'/);
      await page.getByRole('heading', { name: 'Sign in to Ensemble' }).waitFor();
      // No SSO configured: no SSO button.
      assert.equal(await page.getByRole('link', { name: 'Sign in with SSO' }).count(), 0);

      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill('not the password at all');
      await page.getByRole('button', { name: 'Sign in' }).click();
      assert.equal(await page.getByRole('alert').textContent(), 'Wrong email or password');

      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      // The session is HTTP-only: nothing of it in the page's reach, and no key stored.
      const stored = await page.evaluate(
        `({ cookies: document.cookie, key: sessionStorage.getItem('ensemble.apiKey') })`,
      );
      assert.deepEqual(stored, { cookies: '', key: null });
      const cookies = await context.cookies();
      const session = cookies.find((cookie) => cookie.name === 'ensemble_session');
      assert.equal(session?.httpOnly, true);
      assert.equal(session?.sameSite, 'Strict');

      // A reload finds the session again without a form.
      await page.reload();
      await page.getByRole('heading', { name: 'Overview' }).waitFor();

      // A change from the console (a key, created on the Keys page) passes the CSRF check.
      const created = await page.evaluate(`(async () => {
        const me = await (await fetch('/api/auth/me')).json();
        const withToken = await fetch('/api/keys', { method: 'POST', headers: { 'content-type': 'application/json', 'x-ensemble-csrf': me.csrfToken }, body: JSON.stringify({ name: 'from-console' }) });
        const without = await fetch('/api/keys', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'forged' }) });
        return [withToken.status, without.status];
      })()`);
      assert.deepEqual(created, [201, 403]);

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in to Ensemble' }).waitFor();
      const me = await page.evaluate(`fetch('/api/auth/me').then((response) => response.status)`);
      assert.equal(me, 401);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});
