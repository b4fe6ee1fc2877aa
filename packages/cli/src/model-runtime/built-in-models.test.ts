// The built-in local models end to end: registered in the registry (PostgreSQL), pulled if missing,
// deployed in the background by the runtime manager, and answering through their LangChain runtimes.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalArtifactStore } from '@ensemble/adapters/artifacts';
import { ModelRuntimeManager, silentLogger } from '@ensemble/core';
import { builtInModels } from '@ensemble/providers/local';
import { registerBuiltInModels } from '../registry/register-built-in-models.ts';
import { systemClock } from '../runtime/system-clock.ts';
import { builtInArtifacts } from '../testing/built-in-artifacts.ts';
import { openTestRegistry, type TestRegistry } from '../testing/test-registry.ts';
import { deployBuiltInModels } from './deploy-built-in-models.ts';
import { modelProviders } from './model-providers.ts';

describe('built-in local models, registered and deployed at start', { timeout: 600_000 }, () => {
  let registry: TestRegistry;
  let manager: ModelRuntimeManager;

  before(async () => {
    registry = await openTestRegistry('built_in_models');
    manager = new ModelRuntimeManager({
      providers: modelProviders(await builtInArtifacts()),
      models: registry.models,
      revealCredential: (projectId, name) => registry.credentials.reveal(projectId, name),
      clock: systemClock,
      logger: silentLogger,
      healthIntervalMs: 0,
    });
  });
  after(async () => {
    await manager?.close();
    await registry?.close();
  });

  it('registers every built-in model once, in the default project, with schema-valid capabilities', async () => {
    const first = await registerBuiltInModels({ models: registry.models, logger: silentLogger });
    assert.deepEqual(
      first.map((outcome) => outcome.outcome),
      builtInModels.map(() => 'created'),
    );
    const again = await registerBuiltInModels({ models: registry.models, logger: silentLogger });
    assert.ok(again.every((outcome) => outcome.outcome === 'present'));
    const embedder = await registry.models.resolve('default', 'local/all-minilm-l6-v2');
    assert.equal(embedder.provider, 'local');
    assert.equal(embedder.capabilities.dimensions, 384);
    assert.deepEqual(embedder.tags, ['built-in', 'local']);
    assert.equal((await registry.events('models/model.registered')).length, builtInModels.length);
  });

  it('deploys them in the background: every one ready, none pulled when the files are present', async () => {
    let pulls = 0;
    const deployment = deployBuiltInModels({
      manager,
      models: registry.models,
      artifacts: await builtInArtifacts(),
      tmpDir: tmpdir(),
      logger: silentLogger,
      pull: async () => {
        pulls += 1;
        return [];
      },
    });
    await deployment.done;
    assert.equal(pulls, 0);
    for (const model of builtInModels) {
      assert.equal((await registry.models.resolve('default', model.name)).status, 'ready', model.name);
    }
  });

  it('embeds: one 384-dimension vector per text, similar texts closer than unrelated ones', async () => {
    const { runtime } = await manager.runtimeFor('default', 'local/all-minilm-l6-v2');
    assert.ok(runtime.embeddings);
    const [cat = [], kitten = [], tax = []] = await runtime.embeddings.embedDocuments([
      'A cat sits on the mat.',
      'A kitten is sitting on a rug.',
      'Quarterly tax filing deadlines for corporations.',
    ]);
    assert.equal(cat.length, 384);
    const dot = (a: number[], b: number[]) => a.reduce((sum, value, i) => sum + value * (b[i] ?? 0), 0);
    assert.ok(dot(cat, kitten) > dot(cat, tax));
  });

  it('streams a chat answer in several chunks (kept short)', async () => {
    const { runtime } = await manager.runtimeFor('default', 'local/smollm2-135m-instruct');
    const stream = await runtime.chat?.stream([{ role: 'user', content: 'Name three colours.' }], {
      maxTokens: 6,
    } as object);
    const texts: string[] = [];
    for await (const chunk of stream ?? []) if (chunk.text.length > 0) texts.push(chunk.text);
    assert.ok(texts.length >= 2, `chunks: ${JSON.stringify(texts)}`);
  });

  it('identifies languages and sentiment with sensible labels', async () => {
    const language = await manager.runtimeFor('default', 'local/fasttext-lid-176');
    const [french, german] =
      (await language.runtime.classifier?.invoke([
        "Bonjour, je voudrais réserver une table pour ce soir, s'il vous plaît.",
        'Ich möchte heute Abend einen Tisch für zwei Personen reservieren.',
      ])) ?? [];
    assert.equal(french?.[0]?.label, 'fr');
    assert.equal(german?.[0]?.label, 'de');

    const sentiment = await manager.runtimeFor('default', 'local/wink-sentiment');
    const [happy, sad] =
      (await sentiment.runtime.classifier?.invoke([
        'I love this product, it is wonderful and works perfectly!',
        'This is terrible. It broke after a day and I hate it.',
      ])) ?? [];
    assert.equal(happy?.[0]?.label, 'positive');
    assert.equal(sad?.[0]?.label, 'negative');
  });

  it('marks a model whose weights cannot be fetched failed with the reason; the others deploy', async () => {
    const other = await openTestRegistry('built_in_offline');
    const scratch = await mkdtemp(join(tmpdir(), 'ensemble-built-ins-'));
    const offlineManager = new ModelRuntimeManager({
      providers: modelProviders(new LocalArtifactStore(join(scratch, 'artifacts'))),
      models: other.models,
      revealCredential: (projectId, name) => other.credentials.reveal(projectId, name),
      clock: systemClock,
      logger: silentLogger,
      healthIntervalMs: 0,
    });
    try {
      const chosen = builtInModels.filter((model) => model.name !== 'local/smollm2-135m-instruct');
      await registerBuiltInModels({ models: other.models, logger: silentLogger, builtIns: chosen });
      await deployBuiltInModels({
        manager: offlineManager,
        models: other.models,
        artifacts: new LocalArtifactStore(join(scratch, 'artifacts')),
        tmpDir: join(scratch, 'tmp'),
        logger: silentLogger,
        builtIns: chosen,
        pull: async ({ models }) =>
          (models ?? []).map((model) => ({
            model: model.name,
            status: 'failed',
            error: 'getaddrinfo ENOTFOUND repo1.maven.org',
          })),
      }).done;
      const embedder = await other.models.resolve('default', 'local/all-minilm-l6-v2');
      assert.equal(embedder.status, 'failed');
      const reason = (await other.events('models/model.status-changed')).find(
        (event) => event.data.name === 'local/all-minilm-l6-v2' && event.data.to === 'failed',
      )?.data.reason;
      assert.match(
        String(reason),
        /could not fetch its weights: getaddrinfo ENOTFOUND .*Fix: run `ensemble models pull`/,
      );
      assert.equal((await other.models.resolve('default', 'local/wink-sentiment')).status, 'ready');
      assert.equal((await other.models.resolve('default', 'local/fasttext-lid-176')).status, 'ready');
    } finally {
      await offlineManager.close();
      await other.close();
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
