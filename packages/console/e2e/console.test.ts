import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { makePdf } from '../../adapters/src/documents/testing/make-pdf.ts';
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
    let redeploys = 0;
    while (Date.now() < deadline) {
      const page = (await api('/api/models?tag=built-in')) as { data: Array<{ name: string; status: string }> };
      if (page.data.length > 0 && page.data.every((model) => model.status === 'ready')) return;
      // On a loaded machine the chat model's first health check can exceed its 10 s bound and mark it
      // failed; deploy it again, as an operator would with the console's Deploy button.
      const failed = page.data.find((model) => model.status === 'failed');
      if (failed && redeploys < 2) {
        redeploys++;
        await fetch(`${ensemble.url}/api/models/${failed.name}/deploy`, { method: 'POST', headers: ensemble.auth });
      }
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
      await page.getByRole('combobox', { name: 'Alias' }).fill('prod');
      await page.getByRole('button', { name: 'Move alias' }).click();
      await page.getByRole('table', { name: 'Versions' }).getByText('prod').waitFor();
      assert.deepEqual(((await api('/api/models/team/echo')) as { aliases: unknown }).aliases, { prod: 1 });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('creates a key whose secret is shown once, and revokes it', async () => {
    const { context, page, problems } = await openPage(browser);
    try {
      await signIn(page, ensemble.url, String(ensemble.adminKey));
      await page.keyboard.press('g');
      await page.keyboard.press('k');
      await page.getByRole('heading', { name: 'API keys' }).waitFor();
      await page.getByLabel('Name').fill('billing-service');
      await page.getByLabel('Allowed models (comma-separated)').fill('local/smollm2-135m-instruct');
      await page.getByRole('button', { name: 'Create key' }).click();
      const secret = ((await page.getByTestId('new-secret').textContent()) ?? '').trim();
      assert.match(secret, /^ens_[A-Za-z0-9]{43}$/);
      const row = page.getByRole('row').filter({ hasText: 'billing-service' });
      await row.getByText(`${secret.slice(0, 8)}…`).waitFor();
      await page.screenshot({ path: join(screenshots, 'keys-created.png'), fullPage: true });

      // The key works, and once dismissed its secret is nowhere in the page, nor after a reload.
      const models = await fetch(`${ensemble.url}/api/models?limit=1`, {
        headers: { authorization: `Bearer ${secret}` },
      });
      assert.equal(models.status, 200);
      await page.getByRole('button', { name: 'I have saved it' }).click();
      assert.equal((await page.content()).includes(secret), false);
      await page.reload();
      await row.waitFor();
      assert.equal((await page.content()).includes(secret), false);

      await row.getByRole('button', { name: 'Revoke billing-service' }).click();
      await row.getByRole('button', { name: 'Confirm revoking billing-service' }).click();
      await row.getByText('revoked').waitFor();
      const refused = await fetch(`${ensemble.url}/api/models?limit=1`, {
        headers: { authorization: `Bearer ${secret}` },
      });
      assert.equal(refused.status, 401);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('submits a JSONL job, shows its progress live to completion, and downloads the results', async () => {
    const { context, page, problems } = await openPage(browser);
    try {
      await signIn(page, ensemble.url, String(ensemble.adminKey));
      await page.goto(`${ensemble.url}/jobs`);
      await page.getByText('No jobs yet').waitFor();
      const lines = Array.from({ length: 300 }, (_, index) =>
        JSON.stringify({ customId: `t${index}`, text: `text number ${index}` }),
      );
      await page.getByLabel('Model').selectOption('local/all-minilm-l6-v2');
      await page
        .getByLabel('Input (JSON Lines)')
        .setInputFiles({ name: 'texts.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(lines.join('\n')) });
      await page.getByRole('button', { name: 'Upload and submit' }).click();
      await page.getByRole('heading', { name: /^job_/ }).waitFor();
      const events = page.getByRole('list', { name: 'Job events' });
      await events.getByText('job.completed').waitFor({ timeout: 120_000 });
      const seen = await events.getByRole('listitem').allTextContents();
      assert.ok(
        seen.some((event) => event.startsWith('job.progressed')),
        seen.join('\n'),
      );
      assert.equal(await page.getByRole('progressbar', { name: 'Items done' }).getAttribute('aria-valuenow'), '300');
      await page.getByText('completed', { exact: true }).first().waitFor();
      await page.screenshot({ path: join(screenshots, 'job.png'), fullPage: true });

      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'Download results' }).click(),
      ]);
      const path = await download.path();
      const results = (await readFile(path, 'utf8')).trim().split('\n');
      assert.equal(results.length, 300);
      assert.equal((JSON.parse(results[299] as string) as { customId: string }).customId, 't299');

      await page.goto(`${ensemble.url}/jobs`);
      await page.getByRole('table', { name: 'Jobs' }).getByText('completed').waitFor();
      await page.screenshot({ path: join(screenshots, 'jobs.png'), fullPage: true });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('shows usage by model and the request log, and exports it as CSV', async () => {
    const { context, page, problems } = await openPage(browser);
    try {
      await signIn(page, ensemble.url, String(ensemble.adminKey));
      await page.goto(`${ensemble.url}/usage`);
      await page
        .getByRole('table', { name: 'Usage by model' })
        .getByText('local/smollm2-135m-instruct@1')
        .waitFor({ timeout: 30_000 });
      const log = page.getByRole('table', { name: 'Request log' });
      await log.getByText('chat-default').first().waitFor();
      // A call through a route: its detail lists the route's attempts.
      await log.getByRole('row').filter({ hasText: 'chat-default' }).first().getByRole('button').click();
      await page.getByText('requestId', { exact: true }).waitFor();
      await log
        .getByRole('list', { name: /^Attempts of / })
        .getByText('success')
        .waitFor();
      await page.screenshot({ path: join(screenshots, 'usage.png'), fullPage: true });
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'Export CSV' }).click(),
      ]);
      const csv = await readFile(await download.path(), 'utf8');
      assert.match(csv, /^ts,requestId,projectId,keyId,endpoint,requested,/);
      assert.match(csv, /chat-default/);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('draws a route as a tree and saves an edited policy as a new version', async () => {
    const { context, page, problems } = await openPage(browser);
    try {
      await signIn(page, ensemble.url, String(ensemble.adminKey));
      await page.goto(`${ensemble.url}/routes`);
      await page.getByRole('table', { name: 'Routes' }).getByRole('link', { name: 'chat-default' }).click();
      await page.getByRole('list', { name: 'Policy tree' }).getByText('local/smollm2-135m-instruct').waitFor();
      // Each recent request through the route shows its attempts (the playground's calls went through it).
      const attempts = page
        .getByRole('table', { name: 'Recent route requests' })
        .getByRole('list', { name: /^Attempts of / })
        .first();
      await attempts.getByText('local/smollm2-135m-instruct').waitFor();
      await attempts.getByText('success').waitFor();
      const editor = page.getByLabel('Policy (JSON)');
      await editor.fill('{"strategy": "fallback", ');
      assert.match((await page.getByRole('alert').first().textContent()) ?? '', /Not valid JSON/);
      await editor.fill(
        JSON.stringify({
          strategy: 'fallback',
          timeoutMs: 30000,
          targets: ['local/smollm2-135m-instruct', 'local/nope'],
        }),
      );
      await page.getByRole('button', { name: 'Save as a new version' }).click();
      assert.match((await page.getByRole('alert').first().textContent()) ?? '', /local\/nope/);
      await editor.fill(
        JSON.stringify({
          strategy: 'fallback',
          timeoutMs: 30000,
          targets: ['local/smollm2-135m-instruct', 'team/echo'],
        }),
      );
      await page.getByRole('button', { name: 'Save as a new version' }).click();
      await page.getByRole('heading', { name: 'Policy — v2' }).waitFor();
      const tree = page.getByRole('list', { name: 'Policy tree' });
      await tree.getByText('fallback').waitFor();
      await tree.getByText('team/echo').waitFor();
      await page.screenshot({ path: join(screenshots, 'route.png'), fullPage: true });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('creates a collection, ingests a file with progress, and searches it', async () => {
    const { context, page, problems } = await openPage(browser);
    try {
      await signIn(page, ensemble.url, String(ensemble.adminKey));
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Collections' }).click();
      await page.getByText('No collections yet').waitFor();
      await page.getByLabel('Name').fill('handbook');
      await page.getByLabel('Embedding model').selectOption('local/all-minilm-l6-v2');
      await page.getByRole('button', { name: 'Create', exact: true }).click();
      await page.getByRole('heading', { name: 'handbook' }).waitFor();
      const handbook = [
        'To bake sourdough bread you need a starter, flour, water and salt. Let the dough rise overnight.',
        'Our office opens at nine. Visitors sign in at the front desk and wear a badge.',
        'Expenses are refunded within thirty days when the receipt is attached to the claim.',
        ...Array.from(
          { length: 60 },
          (_, index) => `Policy note ${index}: keep the archive tidy and label every box with its year.`,
        ),
      ].join('\n\n');
      // Markdown, HTML and PDF go through the server's documents endpoint (it extracts and splits them).
      const pdf = await makePdf([['Parking: the garage under the office is free for visitors on weekdays.']]);
      await page.getByLabel('PDF, HTML, Markdown, text or JSON Lines files').setInputFiles([
        { name: 'handbook.md', mimeType: 'text/markdown', buffer: Buffer.from(handbook) },
        {
          name: 'holidays.html',
          mimeType: 'text/html',
          buffer: Buffer.from(
            '<html><body><h1>Holidays</h1><p>The office closes between Christmas and New Year.</p></body></html>',
          ),
        },
        { name: 'parking.pdf', mimeType: 'application/pdf', buffer: Buffer.from(pdf) },
      ]);
      await page.getByRole('button', { name: 'Ingest' }).click();
      // Each file is stored at once (its chunks counted) or by an ingestion job followed to its end.
      const ingested = page.getByRole('list', { name: 'Ingested files' });
      await ingested
        .getByText(/^parking\.pdf: (\d+ chunks?|ingested)( \(job job_\w+\))?$/)
        .waitFor({ timeout: 60_000 });
      const lines = await ingested.getByRole('listitem').allTextContents();
      assert.deepEqual(
        lines.map((line) => line.split(':')[0]),
        ['handbook.md', 'holidays.html', 'parking.pdf'],
      );
      assert.equal(await page.getByRole('progressbar', { name: /^Ingesting / }).count(), 1);
      await page.getByLabel('Query').fill('where can visitors park?');
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await page
        .getByRole('table', { name: 'Matches' })
        .getByText(/garage/)
        .first()
        .waitFor();
      await page.getByLabel('Query').fill('how do I make bread?');
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      const first = page.getByRole('table', { name: 'Matches' }).getByRole('row').nth(1);
      await first.waitFor();
      assert.match((await first.textContent()) ?? '', /sourdough/);
      await page.screenshot({ path: join(screenshots, 'collection.png'), fullPage: true });
      // A filter the API refuses shows its message.
      await page.getByLabel('Metadata filter (JSON, optional)').fill('{"source": {"$regex": "x"}}');
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      assert.match((await page.getByRole('alert').first().textContent()) ?? '', /\$regex/);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('creates a pipeline, runs it watching each step light up, and shows its trace', async () => {
    const { context, page, problems } = await openPage(browser);
    try {
      await signIn(page, ensemble.url, String(ensemble.adminKey));
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Pipelines' }).click();
      await page.getByText('No pipelines yet').waitFor();
      await page.getByRole('button', { name: 'New pipeline' }).click();
      await page.getByLabel('Pipeline name').fill('lang-tag');
      const definition = {
        input: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
        steps: [
          { id: 'language', kind: 'classify', model: 'local/fasttext-lid-176', input: 'input.text' },
          { id: 'tag', kind: 'transform', expression: '"lang=" & language.label' },
        ],
      };
      // The API checks the YAML as it is typed, and its issues are put on the step at fault (in the
      // list and on the step's box in the graph).
      const editor = page.getByLabel('Definition (YAML)');
      await editor.fill(
        ['steps:', '  - id: language', '    kind: classify', '    model: local/nope', '    input: input.text'].join(
          '\n',
        ),
      );
      const issues = page.getByRole('alert', { name: 'Validation issues' });
      await issues.getByText(/local\/nope/).waitFor();
      assert.match((await issues.textContent()) ?? '', /step language · model/);
      await page.getByRole('figure', { name: 'Pipeline graph' }).getByLabel('step language: 1 issue').waitFor();
      await page.screenshot({ path: join(screenshots, 'pipeline-editor.png'), fullPage: true });
      await page.getByRole('button', { name: 'Create pipeline' }).click();
      assert.match((await page.getByRole('alert').last().textContent()) ?? '', /local\/nope/);
      // JSON is YAML too.
      await editor.fill(JSON.stringify(definition, null, 2));
      await page.getByTestId('definition-valid').waitFor();
      await page.getByRole('button', { name: 'Create pipeline' }).click();
      await page.getByRole('heading', { name: 'lang-tag' }).waitFor();

      const graph = page.getByRole('figure', { name: 'Pipeline graph' }).first();
      await graph.getByLabel('step language: not run').waitFor();
      await page.getByRole('button', { name: 'Run', exact: true }).click();
      assert.equal(((await page.getByTestId('run-output').textContent()) ?? '').trim(), 'lang=fr');
      await graph.getByLabel('step language: succeeded').waitFor();
      await graph.getByLabel('step tag: succeeded').waitFor();
      await page.screenshot({ path: join(screenshots, 'pipeline.png'), fullPage: true });

      await page.getByRole('link', { name: /^Trace of run_/ }).click();
      await page.getByRole('heading', { name: /^run_/ }).waitFor();
      await page.getByRole('figure', { name: 'Pipeline graph' }).first().getByLabel('step tag: succeeded').waitFor();

      // Aliases: point `production` at v1 from the pipeline's page.
      await page.getByRole('link', { name: '← lang-tag' }).click();
      await page.getByRole('combobox', { name: 'Alias' }).fill('production');
      await page.getByRole('button', { name: 'Move alias' }).click();
      await page.getByRole('table', { name: 'Versions' }).getByText('production').waitFor();
      assert.deepEqual(((await api('/api/pipelines/lang-tag')) as { aliases: unknown }).aliases, { production: 1 });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('keeps credentials write-only, sets the project limits, and shows the audit log of those changes', async () => {
    const { context, page, problems } = await openPage(browser);
    try {
      await signIn(page, ensemble.url, String(ensemble.adminKey));
      await page.keyboard.press('g');
      await page.keyboard.press('s');
      await page.getByRole('heading', { name: 'Settings' }).waitFor();
      await page.getByRole('table', { name: 'Projects' }).getByText('default', { exact: true }).waitFor();
      const secret = 'sk-test-0123456789abcdefghijklmnop';
      await page.getByLabel('Credential name').fill('openai-main');
      await page.getByLabel('Credential provider').fill('openai');
      await page.getByLabel('Secret').fill(secret);
      await page.getByRole('button', { name: 'Save credential' }).click();
      await page.getByRole('table', { name: 'Credentials' }).getByText('openai-main').waitFor();
      assert.equal((await page.content()).includes(secret), false, 'the secret is not shown back');

      await page.getByLabel('Requests per minute').fill('6000');
      await page.getByRole('button', { name: 'Save limits' }).click();
      await page.getByTestId('limits').getByText(/6000/).waitFor();

      const audit = page.getByRole('table', { name: 'Audit log' });
      await page.reload();
      await audit.getByText('credentials.create').waitFor();
      await audit.getByText('keys.create').first().waitFor();
      assert.equal((await page.content()).includes(secret), false, 'nor in the audit log');
      await page.screenshot({ path: join(screenshots, 'settings.png'), fullPage: true });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it("shows the API's message on every page when a call fails, and a banner when offline", async () => {
    const { context, page } = await openPage(browser);
    try {
      await signIn(page, ensemble.url, String(ensemble.adminKey));
      // The API fails for every page (injected in the browser's network layer): each shows the API's own message.
      await page.route(/\/(api|v1)\//, (route) =>
        route.fulfill({
          status: 503,
          contentType: 'application/json',
          body: JSON.stringify({
            error: {
              message: 'PostgreSQL is unavailable (injected)',
              type: 'server_error',
              param: null,
              code: 'dependency_unavailable',
              request_id: 'req-1',
            },
          }),
        }),
      );
      for (const path of [
        '/',
        '/models',
        '/models/local/all-minilm-l6-v2',
        '/playground',
        '/routes',
        '/routes/chat-default',
        '/jobs',
        '/usage',
        '/keys',
      ]) {
        await page.goto(`${ensemble.url}${path}`);
        const alert = page.getByRole('alert').filter({ hasText: 'PostgreSQL is unavailable (injected)' }).first();
        await alert.waitFor({ timeout: 15_000 }).catch(() => {
          throw new Error(`${path} showed no error state`);
        });
        if (path === '/models') await page.screenshot({ path: join(screenshots, 'error-state.png') });
      }
      await page.unroute(/\/(api|v1)\//);
      await page.goto(`${ensemble.url}/models`);
      await page.getByRole('table', { name: 'Models' }).waitFor();
      await context.setOffline(true);
      await page.getByText('You are offline').waitFor();
      await context.setOffline(false);
    } finally {
      await context.close();
    }
  });

  it('fits a tablet: the navigation becomes a top bar and pages keep working', async () => {
    const { context, page, problems } = await openPage(browser, { width: 820, height: 1180 });
    try {
      await signIn(page, ensemble.url, String(ensemble.adminKey));
      await page.goto(`${ensemble.url}/models`);
      await page.getByRole('table', { name: 'Models' }).waitFor();
      const overflow = await page.evaluate(
        'document.documentElement.scrollWidth - document.documentElement.clientWidth',
      );
      assert.equal(overflow, 0, 'no horizontal scrolling of the page');
      await page.screenshot({ path: join(screenshots, 'tablet-models.png') });
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
