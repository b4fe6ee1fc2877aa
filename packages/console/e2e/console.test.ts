import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { linkBuiltInArtifacts } from '../../cli/src/testing/built-in-artifacts.ts';
import { type EnsembleProcess, spawnEnsemble } from '../../cli/src/testing/ensemble-process.ts';
import { buildConsole, consoleRoot } from '../scripts/build.ts';
import { launchChromium, openPage, signIn } from './browser.ts';

/** Screenshots of each page, taken by this run (docs/console/*.png are copies of them). */
const screenshots = join(consoleRoot, '..', '..', '.cache', 'console-screenshots');

// The console in real Chromium against a real `ensemble start` (embedded PostgreSQL, the bus, the
// built-in local models loaded from the test cache).
describe('the console in a browser', { timeout: 600_000 }, () => {
  let home: string;
  let ensemble: EnsembleProcess;
  let browser: Browser;

  before(async () => {
    await buildConsole({ quiet: true });
    home = await mkdtemp(join(tmpdir(), 'ensemble-console-e2e-'));
    await chmod(home, 0o755);
    await linkBuiltInArtifacts(join(home, 'artifacts'));
    await mkdir(screenshots, { recursive: true });
    [ensemble, browser] = await Promise.all([
      spawnEnsemble(['start'], { ENSEMBLE_HOME: home, ENSEMBLE_BUILT_IN_MODELS: 'deploy' }),
      launchChromium(),
    ]);
  });
  after(async () => {
    await browser?.close();
    if (ensemble) assert.equal(await ensemble.stop('SIGTERM'), 0, ensemble.output());
    await rm(home, { recursive: true, force: true });
  });

  it('refuses a bad key with the API message, then signs in and keeps the key for the tab only', async () => {
    const { context, page, problems } = await openPage(browser);
    try {
      const loaded = Date.now();
      await page.goto(ensemble.url);
      await page.getByRole('heading', { name: 'Sign in to Ensemble' }).waitFor();
      const firstLoadMs = Date.now() - loaded;
      await page.screenshot({ path: join(screenshots, 'sign-in.png') });

      await page.getByLabel('API key').fill('ens_notARealKey0123456789abcdefghijklmnopqrstuv');
      await page.getByRole('button', { name: 'Sign in' }).click();
      assert.equal(await page.getByRole('alert').textContent(), 'Invalid API key');

      await page.getByLabel('API key').fill(String(ensemble.adminKey));
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      // Evaluated in the page (a string: this file is type-checked without the DOM's types).
      const stored = await page.evaluate(`({
        session: sessionStorage.getItem('ensemble.apiKey'),
        local: Object.keys(localStorage).filter((name) => name.includes('Key')),
        cookies: document.cookie,
      })`);
      assert.deepEqual(stored, { session: ensemble.adminKey, local: [], cookies: '' });

      // A reload keeps the session; signing out forgets the key.
      await page.reload();
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in to Ensemble' }).waitFor();
      assert.equal(await page.evaluate(`sessionStorage.getItem('ensemble.apiKey')`), null);
      assert.deepEqual(problems, []);
      process.stderr.write(`console first load (sign-in page visible): ${firstLoadMs} ms\n`);
    } finally {
      await context.close();
    }
  });

  it('switches to the dark theme and remembers it', async () => {
    const { context, page, problems } = await openPage(browser);
    try {
      await signIn(page, ensemble.url, String(ensemble.adminKey));
      await page.getByLabel('Theme').selectOption('dark');
      assert.equal(await page.evaluate('document.documentElement.dataset.theme'), 'dark');
      await page.reload();
      assert.equal(await page.evaluate('document.documentElement.dataset.theme'), 'dark');
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});
