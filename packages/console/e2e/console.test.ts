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

  const api = async (path: string, init: { method?: string; body?: unknown } = {}) => {
    const response = await fetch(`${ensemble.url}${path}`, {
      method: init.method ?? 'GET',
      headers: { ...ensemble.auth, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    assert.ok(response.ok, `${path}: ${response.status} ${await response.clone().text()}`);
    return response.json() as Promise<Record<string, unknown>>;
  };
  const waitForBuiltIns = async () => {
    const deadline = Date.now() + 240_000;
    while (Date.now() < deadline) {
      const page = (await api('/api/models?tag=built-in')) as { data: Array<{ status: string }> };
      if (page.data.length > 0 && page.data.every((model) => model.status === 'ready')) return;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    throw new Error(`the built-in models did not get ready:\n${ensemble.output()}`);
  };

  it('shows the first-run tour with the built-in local models and the services up on the overview', async () => {
    const { context, page, problems } = await openPage(browser);
    try {
      await signIn(page, ensemble.url, String(ensemble.adminKey));
      const tour = page.getByRole('table', { name: 'Built-in models' });
      await tour.getByText('local/smollm2-135m-instruct').waitFor();
      await page.getByRole('list', { name: 'Services' }).getByText('up').first().waitFor();
      assert.equal(await page.getByRole('list', { name: 'Services' }).getByText('down').count(), 0);
      await page.getByText('Model calls per second (every 3 s)').waitFor({ timeout: 15_000 });
      await page.screenshot({ path: join(screenshots, 'overview-first-run.png'), fullPage: true });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('streams an answer from the local chat model in the playground, and shows it as code', async () => {
    await waitForBuiltIns();
    const { context, page, problems } = await openPage(browser);
    try {
      await signIn(page, ensemble.url, String(ensemble.adminKey));
      await page.keyboard.press('g');
      await page.keyboard.press('p');
      await page.getByRole('heading', { name: 'Playground' }).waitFor();
      await page.getByLabel('Max tokens').fill('24');
      await page.getByLabel('Message', { exact: true }).fill('Say hello.');
      // Record every length the answer had while it streamed: it must grow in several steps.
      await page.evaluate(`(() => {
        const answer = document.querySelector('[data-testid="pane-1"] [data-testid="answer"]');
        window.__lengths = [];
        new MutationObserver(() => window.__lengths.push(answer.textContent.length)).observe(answer, { childList: true, subtree: true, characterData: true });
      })()`);
      await page.getByRole('button', { name: 'Send' }).click();
      const figures = page.getByRole('definition').filter({ hasText: /\d+ \/ \d+/ });
      await figures.first().waitFor({ timeout: 120_000 });
      const answer = (await page.getByTestId('pane-1').getByTestId('answer').textContent()) ?? '';
      assert.ok(answer.trim().length > 0, 'an answer was shown');
      const lengths = (await page.evaluate('window.__lengths')) as number[];
      assert.ok(new Set(lengths.filter((length) => length > 0)).size >= 3, `the answer streamed: ${lengths.join(',')}`);

      await page.getByLabel('View as code').selectOption('curl');
      const code = (await page.getByTestId('code-snippet').textContent()) ?? '';
      assert.match(code, /curl -sN http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions/);
      assert.match(code, /"max_tokens":24/);
      await page.screenshot({ path: join(screenshots, 'playground.png'), fullPage: true });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('compares a model and a route side by side with latency and tokens for each', async () => {
    await api('/api/routes', { method: 'POST', body: { name: 'chat-default', policy: 'local/smollm2-135m-instruct' } });
    const { context, page, problems } = await openPage(browser);
    try {
      await signIn(page, ensemble.url, String(ensemble.adminKey));
      await page.goto(`${ensemble.url}/playground`);
      await page.getByLabel('Max tokens').fill('12');
      await page.getByRole('button', { name: 'Add a model to compare' }).click();
      await page.getByLabel('Model or route 2').selectOption('chat-default');
      await page.getByRole('button', { name: 'Send to 2' }).click();
      for (const pane of ['pane-1', 'pane-2']) {
        await page.getByTestId(pane).getByText('First token', { exact: true }).waitFor({ timeout: 180_000 });
        const text = (await page.getByTestId(pane).getByTestId('answer').textContent()) ?? '';
        assert.ok(text.trim().length > 0, `${pane} answered`);
        const figures = (await page.getByTestId(pane).getByRole('definition').allTextContents()).join(' | ');
        assert.match(figures, /^\d+(\.\d)? (ms|s) \| \d+(\.\d)? (ms|s) \| \d+ \/ \d+ \| /);
        assert.match(figures, /\$0 \(local\)$/);
        if (pane === 'pane-2')
          assert.match(figures, /local\/smollm2-135m-instruct@1/, 'the route says which model answered');
      }
      await page.screenshot({ path: join(screenshots, 'playground-compare.png'), fullPage: true });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('lists, filters and opens models, tests one in place, registers one and moves an alias', async () => {
    const { context, page, problems } = await openPage(browser);
    try {
      await signIn(page, ensemble.url, String(ensemble.adminKey));
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Models' }).click();
      const table = page.getByRole('table', { name: 'Models' });
      await table.getByText('local/all-minilm-l6-v2').waitFor();
      await page.getByLabel('Kind').selectOption('embedding');
      await page.waitForFunction(`!document.body.textContent.includes('local/smollm2-135m-instruct')`);
      await page.screenshot({ path: join(screenshots, 'models.png'), fullPage: true });

      await table.getByRole('link', { name: 'local/all-minilm-l6-v2' }).click();
      await page.getByRole('heading', { name: 'local/all-minilm-l6-v2' }).waitFor();
      await page.getByRole('button', { name: 'Run' }).click();
      assert.match((await page.getByTestId('invoke-result').textContent()) ?? '', /1 vector\(s\) of 384 dimensions/);
      await page.screenshot({ path: join(screenshots, 'model-detail.png'), fullPage: true });

      // The API's own message when a field is wrong.
      await page.goto(`${ensemble.url}/models/new`);
      await page.getByLabel('Name').fill('team/echo');
      await page.getByLabel('Provider', { exact: true }).selectOption('openai-compatible');
      await page.getByLabel("Provider's model id").fill('echo-1');
      await page.getByLabel('Base URL').fill('not a url');
      await page.getByRole('button', { name: 'Register' }).click();
      assert.match((await page.getByRole('alert').textContent()) ?? '', /baseUrl/);

      await page.getByLabel('Base URL').fill('http://127.0.0.1:9/v1');
      await page.getByLabel('Input price (USD per 1M tokens)').fill('0.5');
      await page.getByLabel('Output price (USD per 1M tokens)').fill('1.5');
      await page.getByRole('button', { name: 'Register' }).click();
      await page.getByRole('heading', { name: 'team/echo' }).waitFor();
      await page.getByText('$0.50 in · $1.50 out').waitFor();
      await page.getByRole('textbox', { name: 'Alias' }).fill('prod');
      await page.getByRole('button', { name: 'Move alias' }).click();
      await page.getByRole('table', { name: 'Versions' }).getByText('prod').waitFor();
      assert.deepEqual(((await api('/api/models/team/echo')) as { aliases: unknown }).aliases, { prod: 1 });
      assert.deepEqual(problems, []);
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
