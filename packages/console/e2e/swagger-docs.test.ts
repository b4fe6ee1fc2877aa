import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { type EnsembleProcess, spawnEnsemble } from '../../cli/src/testing/ensemble-process.ts';
import { launchChromium, openPage } from './browser.ts';

// Swagger UI at /docs in real Chromium under its own Content-Security-Policy: it renders the API's
// operations and "Try it out" calls the API, with no CSP violation (each would be a console error).
describe('Swagger UI at /docs under its Content-Security-Policy', { timeout: 300_000 }, () => {
  let home: string;
  let ensemble: EnsembleProcess;
  let browser: Browser;

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'ensemble-swagger-docs-'));
    await chmod(home, 0o755);
    [ensemble, browser] = await Promise.all([
      spawnEnsemble(['start', '--no-worker'], { ENSEMBLE_HOME: home, ENSEMBLE_BUILT_IN_MODELS: 'off' }),
      launchChromium(),
    ]);
  });
  after(async () => {
    await browser?.close();
    if (ensemble) assert.equal(await ensemble.stop('SIGTERM'), 0, ensemble.output());
    await rm(home, { recursive: true, force: true });
  });

  it('renders the operations and runs one with "Try it out", with no console error', async () => {
    const { context, page, problems } = await openPage(browser);
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/.test(message.text())) violations.push(message.text());
    });
    try {
      const loaded = await page.goto(`${ensemble.url}/docs`);
      const policy = loaded?.headers()['content-security-policy'] ?? '';
      assert.match(policy, /script-src 'self'/);
      assert.match(policy, /frame-ancestors 'none'/);
      assert.doesNotMatch(policy, /unsafe-inline|unsafe-eval/);
      await page.getByRole('heading', { name: /Ensemble API/ }).waitFor();
      // GET /api/models without a key: the call reaches the API (connect-src) and shows its 401.
      const operation = page.locator('.opblock-get', {
        has: page.locator('.opblock-summary-path[data-path="/api/models"]'),
      });
      await operation.locator('.opblock-summary').first().click();
      await operation.getByRole('button', { name: 'Try it out' }).click();
      await operation.getByRole('button', { name: 'Execute' }).click();
      await operation.locator('.live-responses-table .response-col_status', { hasText: '401' }).waitFor();
      // The static files carry the policy too.
      const script = await page.request.get(`${ensemble.url}/docs/static/swagger-initializer.js`);
      assert.match(script.headers()['content-security-policy'] ?? '', /script-src 'self'/);
      assert.deepEqual(violations, []);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});
