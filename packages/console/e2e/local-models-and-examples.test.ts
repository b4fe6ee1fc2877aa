import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { builtInModels } from '@ensemble/providers/local';
import type { Browser } from 'playwright-core';
import { builtInArtifacts, linkBuiltInArtifacts } from '../../cli/src/testing/built-in-artifacts.ts';
import { type EnsembleProcess, spawnEnsemble } from '../../cli/src/testing/ensemble-process.ts';
import { waitForBuiltInModels } from '../../cli/src/testing/wait-for-built-in-models.ts';
import { buildConsole, consoleRoot } from '../scripts/build.ts';
import { launchChromium, openPage, signIn } from './browser.ts';

const screenshots = join(consoleRoot, '..', '..', '.cache', 'console-screenshots');

// A model registered from a file on the user's machine, deployed and tested in place; the `rag-qa`
// example pipeline run from the console and its trace read step by step. One real `ensemble start
// --examples` (embedded PostgreSQL, the bus, the built-in local models), one real Chromium.
describe('the console with local model files and the example pipelines', { timeout: 600_000 }, () => {
  let home: string;
  let ensemble: EnsembleProcess;
  let browser: Browser;

  const api = async (path: string) => {
    const response = await fetch(`${ensemble.url}${path}`, { headers: ensemble.auth });
    assert.ok(response.ok, `${path}: ${response.status} ${await response.clone().text()}`);
    return response.json() as Promise<Record<string, unknown>>;
  };

  before(async () => {
    await buildConsole({ quiet: true });
    home = await mkdtemp(join(tmpdir(), 'ensemble-console-local-'));
    await chmod(home, 0o755);
    await linkBuiltInArtifacts(join(home, 'artifacts'));
    await mkdir(screenshots, { recursive: true });
    [ensemble, browser] = await Promise.all([
      spawnEnsemble(['start', '--examples'], {
        ENSEMBLE_HOME: home,
        ENSEMBLE_BUILT_IN_MODELS: 'deploy',
        // No periodic health calls on the local LLM: one in flight at shutdown can crash llama.cpp's teardown.
        MODEL_HEALTH_INTERVAL_MS: '0',
      }),
      launchChromium(),
    ]);
    await waitForBuiltInModels(ensemble);
  });
  after(async () => {
    await browser?.close();
    if (ensemble) assert.equal(await ensemble.stop('SIGTERM'), 0, ensemble.output());
    await rm(home, { recursive: true, force: true });
  });

  it('registers a model from a local ONNX file with upload progress, deploys it and tests it in place', async () => {
    // The MiniLM ONNX export and its tokenizer, as a user would have them on disk.
    const minilm = builtInModels.find((model) => model.name === 'local/all-minilm-l6-v2');
    const files = minilm?.files ?? [];
    const store = await builtInArtifacts();
    const onnx = await store.path(files.find((file) => file.format === 'onnx')?.sha256 ?? '');
    const tokenizer = await store.path(files.find((file) => file.format === 'tokenizer.json')?.sha256 ?? '');

    const { context, page, problems } = await openPage(browser);
    try {
      await signIn(page, ensemble.url, String(ensemble.adminKey));
      await page.goto(`${ensemble.url}/models/new`);
      await page.getByLabel('Local file (GGUF or ONNX)').check();
      const form = page.getByRole('form', { name: 'Register a local model' });
      await form.getByLabel('Name').fill('team/minilm-upload');
      const [model, words] = await Promise.all([readFile(onnx), readFile(tokenizer)]);
      await form.getByLabel('Model file').setInputFiles({ name: 'minilm.onnx', mimeType: '', buffer: model });
      await form.getByText(/minilm\.onnx · 23\.0 MB · a sentence-embedding model/).waitFor();
      await form
        .getByLabel('Tokenizer (tokenizer.json)')
        .setInputFiles({ name: 'tokenizer.json', mimeType: 'application/json', buffer: words });
      await page.getByRole('button', { name: 'Upload and register' }).click();
      // The bar shows the bytes sent (it may be quick on loopback: seen, or already on the model's page).
      await Promise.race([
        page.getByRole('progressbar', { name: /^Uploading / }).waitFor(),
        page.getByRole('heading', { name: 'team/minilm-upload' }).waitFor(),
      ]);
      await page.getByRole('heading', { name: 'team/minilm-upload' }).waitFor({ timeout: 60_000 });
      const registered = (await api('/api/models/team/minilm-upload')) as {
        provider: string;
        artifact: { sha256: string; format: string };
      };
      assert.equal(registered.provider, 'local');
      assert.deepEqual(registered.artifact, { sha256: files.find((f) => f.format === 'onnx')?.sha256, format: 'onnx' });

      await page.getByRole('button', { name: 'Deploy' }).click();
      await page.getByRole('button', { name: 'Undeploy' }).waitFor({ timeout: 60_000 });
      await page.getByRole('table', { name: 'Status history' }).getByText('ready').first().waitFor({ timeout: 60_000 });
      await page.getByRole('button', { name: 'Run' }).click();
      assert.match(
        (await page.getByTestId('invoke-result').textContent({ timeout: 60_000 })) ?? '',
        /1 vector\(s\) of 384 dimensions/,
      );
      await page.screenshot({ path: join(screenshots, 'model-local-deployed.png'), fullPage: true });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('runs the rag-qa example, lighting each step, and shows its trace step by step', async () => {
    const { context, page, problems } = await openPage(browser);
    try {
      await signIn(page, ensemble.url, String(ensemble.adminKey));
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Pipelines' }).click();
      await page.getByRole('table', { name: 'Pipelines' }).getByRole('link', { name: 'rag-qa' }).click();
      await page.getByRole('heading', { name: 'rag-qa' }).waitFor();
      const graph = page.getByRole('figure', { name: 'Pipeline graph' }).first();
      for (const step of ['documents', 'context', 'answer', 'cited'])
        await graph.getByLabel(`step ${step}: not run`).waitFor();

      await page.getByLabel('Input (JSON)').fill(JSON.stringify({ text: 'What does Ensemble serve?' }));
      await page.getByRole('button', { name: 'Run', exact: true }).click();
      // The steps light up as the run streams; the model step ends with its latency and tokens.
      await graph.getByLabel('step documents: succeeded').waitFor({ timeout: 120_000 });
      await graph.getByLabel('step cited: succeeded').waitFor({ timeout: 120_000 });
      const output = (await page.getByTestId('run-output').textContent()) ?? '';
      assert.match(output, /Sources: /);
      await graph
        .getByLabel('step answer: succeeded')
        .getByText(/ (ms|s) · \d+ tok/)
        .waitFor();
      // The stored definition passes the API's check in the editor (its collection and model exist).
      await page.getByTestId('definition-valid').waitFor();
      await page.screenshot({ path: join(screenshots, 'pipeline-rag-qa.png'), fullPage: true });

      await page.getByRole('link', { name: /^Trace of run_/ }).click();
      await page.getByRole('heading', { name: /^run_/ }).waitFor();
      const steps = page.getByRole('table', { name: 'Trace steps' });
      await steps.getByText('documents', { exact: true }).waitFor();
      const paths = await steps
        .locator('tbody tr')
        .evaluateAll((rows) => rows.map((row) => (row as unknown as { dataset: { path: string } }).dataset.path));
      assert.deepEqual(paths, ['documents', 'context', 'answer', 'cited']);
      const answer = steps.locator('tr[data-path="answer"]');
      assert.match((await answer.textContent()) ?? '', /model · local\/smollm2-135m-instruct/);
      await answer.locator('summary').click();
      await answer.getByText('output', { exact: true }).waitFor();
      await page.getByRole('figure', { name: 'Pipeline graph' }).getByLabel('step answer: succeeded').waitFor();
      await page.screenshot({ path: join(screenshots, 'run-trace.png'), fullPage: true });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});
