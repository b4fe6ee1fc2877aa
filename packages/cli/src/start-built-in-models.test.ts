import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { builtInModels } from '@ensemble/providers/local';
import { linkBuiltInArtifacts } from './testing/built-in-artifacts.ts';
import { type EnsembleProcess, spawnEnsemble } from './testing/ensemble-process.ts';
import { readSse } from './testing/read-sse.ts';

// A fresh `ensemble start` with the built-in model files already in its artifact store (as after
// `ensemble models pull`): no network, no API key, and every built-in model answers through invoke.
describe('ensemble start serves the built-in models', { timeout: 300_000 }, () => {
  let home: string;
  let ensemble: EnsembleProcess;
  const invoke = (name: string, body: object) =>
    fetch(`${ensemble.url}/api/models/${name}/invoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...ensemble.auth },
      body: JSON.stringify(body),
    });

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'ensemble-built-ins-'));
    await chmod(home, 0o755);
    await linkBuiltInArtifacts(join(home, 'artifacts'));
    ensemble = await spawnEnsemble(['start'], { ENSEMBLE_HOME: home, ENSEMBLE_BUILT_IN_MODELS: 'deploy' });
  });
  after(async () => {
    if (ensemble) assert.equal(await ensemble.stop('SIGTERM'), 0, ensemble.output());
    await rm(home, { recursive: true, force: true });
  });

  it('lists the built-in models at once and deploys them in the background', async () => {
    const listed = (await (
      await fetch(`${ensemble.url}/api/models?tag=built-in`, { headers: ensemble.auth })
    ).json()) as {
      data: Array<{ name: string; provider: string; status: string }>;
    };
    assert.deepEqual(listed.data.map((model) => model.name).sort(), builtInModels.map((model) => model.name).sort());
    assert.ok(listed.data.every((model) => model.provider === 'local'));

    const deadline = Date.now() + 180_000;
    let statuses: string[] = [];
    while (Date.now() < deadline) {
      const page = (await (
        await fetch(`${ensemble.url}/api/models?tag=built-in`, { headers: ensemble.auth })
      ).json()) as typeof listed;
      statuses = page.data.map((model) => `${model.name}=${model.status}`);
      if (page.data.every((model) => model.status === 'ready')) break;
      assert.ok(!page.data.some((model) => model.status === 'failed'), statuses.join(' '));
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.ok(
      statuses.every((status) => status.endsWith('=ready')),
      `${statuses.join(' ')}\n${ensemble.output()}`,
    );
    assert.doesNotMatch(ensemble.output(), /fetching the weights/, 'nothing was downloaded');
  });

  it('embeds, chats with a stream, and classifies language and sentiment through invoke', async () => {
    const embedded = await invoke('local/all-minilm-l6-v2', { input: ['hello world', 'bonjour'] });
    assert.equal(embedded.status, 200);
    const vectors = (await embedded.json()) as { embeddings: number[][]; dimensions: number };
    assert.equal(vectors.embeddings.length, 2);
    assert.equal(vectors.dimensions, 384);

    const streamed = await invoke('local/smollm2-135m-instruct', {
      messages: [{ role: 'user', content: 'Say hello.' }],
      parameters: { maxTokens: 6 },
      stream: true,
    });
    assert.equal(streamed.status, 200);
    const events = await readSse(streamed);
    assert.ok(events.filter((event) => event.event === 'token').length >= 2, JSON.stringify(events));
    assert.equal(events.at(-1)?.event, 'done');

    const language = await invoke('local/fasttext-lid-176', { input: 'Ceci est une phrase en français.' });
    const languages = (await language.json()) as { results: Array<Array<{ label: string }>> };
    assert.equal(
      language.status,
      200,
      `${JSON.stringify(languages)}\n${ensemble
        .output()
        .split('\n')
        .filter((line) => line.includes('"level":50'))
        .join('\n')}`,
    );
    assert.equal(languages.results[0]?.[0]?.label, 'fr');

    const sentiment = await invoke('local/wink-sentiment', { input: 'What a wonderful, delightful day!' });
    const sentiments = (await sentiment.json()) as { results: Array<Array<{ label: string }>> };
    assert.equal(sentiments.results[0]?.[0]?.label, 'positive');
  });
});
