import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '@ensemble/testkit';
import { stringify } from 'yaml';
import { spawnEnsemble } from '../testing/ensemble-process.ts';

// Models' base URLs that were never checked through the API — written in ensemble.yaml, or saved while
// their range was allowed — meet the SSRF rule at start and when the gateway connects.
describe('SSRF rule for ensemble.yaml and at connect time', { timeout: 180_000 }, () => {
  let database: TestDatabase;
  let dir: string;
  let upstream: Server;
  let calls = 0;

  before(async () => {
    database = await createTestDatabase('declared_urls');
    dir = await mkdtemp(join(tmpdir(), 'ensemble-declared-urls-'));
    upstream = createServer((request, response) => {
      calls += 1;
      request.resume();
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          id: 'c1',
          object: 'chat.completion',
          created: 1,
          model: 'm',
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: 'answer from the internal server' },
              finish_reason: 'stop',
            },
          ],
          usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
        }),
      );
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    upstream?.close();
    await database?.drop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('refuses to start on an ensemble.yaml model whose baseUrl is internal, naming the field', async () => {
    const file = join(dir, 'metadata.yaml');
    await writeFile(
      file,
      stringify({
        models: [
          { name: 'ok/m', kind: 'chat', provider: 'openai', providerModelId: 'gpt-4o' },
          {
            name: 'cloud/metadata',
            kind: 'chat',
            provider: 'openai-compatible',
            providerModelId: 'm',
            baseUrl: 'http://169.254.169.254/v1',
          },
        ],
      }),
    );
    const ensemble = await spawnEnsemble(
      ['start', '--no-worker', '--config', file],
      { DATABASE_URL: database.url, ENSEMBLE_HOME: join(dir, 'refused') },
      { waitForListening: false },
    );
    assert.notEqual(await ensemble.exited, 0);
    assert.match(
      ensemble.output(),
      /ensemble\.yaml: models\[1\]\.baseUrl: '169\.254\.169\.254' is 169\.254\.169\.254, an internal address/,
    );
  });

  it('refuses at connect time a model saved while its range was allowed, once it no longer is', async () => {
    const port = (upstream.address() as AddressInfo).port;
    const lenient = await spawnEnsemble(['start', '--no-worker'], {
      DATABASE_URL: database.url,
      ENSEMBLE_HOME: join(dir, 'a'),
    });
    const strict = await spawnEnsemble(['start', '--no-worker'], {
      DATABASE_URL: database.url,
      ENSEMBLE_HOME: join(dir, 'b'),
      OUTBOUND_ALLOWED_NETWORKS: '',
    });
    try {
      const registered = await fetch(`${lenient.url}/api/models`, {
        method: 'POST',
        headers: { ...lenient.auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'inside/m',
          kind: 'chat',
          provider: 'openai-compatible',
          providerModelId: 'm',
          baseUrl: `http://127.0.0.1:${port}/v1`,
        }),
      });
      assert.equal(registered.status, 201, await registered.text());
      const ask = (url: string, auth: Record<string, string>) =>
        fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'inside/m', messages: [{ role: 'user', content: 'hi' }] }),
        });
      const through = await ask(lenient.url, lenient.auth);
      assert.equal(through.status, 200, await through.clone().text());
      const before = calls;
      const refused = await ask(strict.url, strict.auth);
      const text = await refused.text();
      assert.ok(refused.status >= 400, `${refused.status} ${text}`);
      assert.equal(calls, before, 'the strict instance never reached the internal upstream');
      assert.doesNotMatch(text, /answer from the internal server/);
      assert.match(text, /an internal address Ensemble does not call/);
    } finally {
      await Promise.all([lenient.stop(), strict.stop()]);
    }
  });
});
