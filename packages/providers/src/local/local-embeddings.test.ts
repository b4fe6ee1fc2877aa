import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '@ensemble/core';
import { builtInArtifacts, builtInSpec } from './built-in-artifacts.testing.ts';
import { LocalEmbeddings } from './local-embeddings.ts';
import { createLocalProvider, type LocalModelRuntime } from './local-provider.ts';

const cosine = (a: number[], b: number[]) => a.reduce((sum, value, index) => sum + value * (b[index] as number), 0);

describe('local embeddings (all-MiniLM-L6-v2 in a replica pool)', () => {
  let runtime: LocalModelRuntime;
  let provider: ReturnType<typeof createLocalProvider>;
  before(async () => {
    provider = createLocalProvider({ artifacts: await builtInArtifacts() });
    runtime = (await provider.createRuntime(builtInSpec('local/all-minilm-l6-v2'), {
      logger: silentLogger,
    })) as LocalModelRuntime;
  });
  after(() => runtime.dispose());

  it('returns deterministic unit vectors of 384 dimensions, nearly the same alone or in a batch', async () => {
    const embeddings = runtime.embeddings;
    assert.ok(embeddings);
    const alone = await embeddings.embedQuery('The cat sits on the mat.');
    const [inBatch] = await embeddings.embedDocuments([
      'The cat sits on the mat.',
      'A considerably longer sentence, so that the batch is padded and the mask matters.',
    ]);
    assert.equal(alone.length, 384);
    assert.ok(Math.abs(cosine(alone, alone) - 1) < 1e-5);
    assert.ok(inBatch);
    // int8 dynamic quantisation scales activations per batch, so batch company moves a vector a hair.
    assert.ok(cosine(alone, inBatch) > 0.99, `alone vs batched: ${cosine(alone, inBatch)}`);
    assert.deepEqual(await embeddings.embedQuery('The cat sits on the mat.'), alone, 'deterministic');
  });

  it('puts paraphrases closer than unrelated sentences', async () => {
    const embeddings = runtime.embeddings;
    assert.ok(embeddings);
    const [cat, kitten, stocks, shares] = await embeddings.embedDocuments([
      'A cat is sleeping on the sofa.',
      'A kitten naps on the couch.',
      'The stock market fell sharply today.',
      'Share prices dropped steeply this afternoon.',
    ]);
    assert.ok(cat && kitten && stocks && shares);
    assert.ok(cosine(cat, kitten) > cosine(cat, stocks) + 0.3, `${cosine(cat, kitten)} vs ${cosine(cat, stocks)}`);
    assert.ok(cosine(stocks, shares) > cosine(kitten, shares) + 0.3);
  });

  it('batches concurrent callers into fewer model calls and answers each with its own vector', async () => {
    const embeddings = runtime.embeddings;
    assert.ok(embeddings);
    assert.ok(embeddings instanceof LocalEmbeddings);
    const texts = Array.from({ length: 40 }, (_, index) => `sentence number ${index}`);
    const start = embeddings.callStats();
    const vectors = await Promise.all(texts.map((text) => embeddings.embedQuery(text)));
    const end = embeddings.callStats();
    assert.equal(end.texts - start.texts, 40);
    // The first goes alone while the replica is idle; the rest wait for it and share calls.
    assert.ok(end.calls - start.calls <= 3, `${end.calls - start.calls} model calls for 40 texts`);
    const again = await embeddings.embedQuery('sentence number 7');
    // Each caller got its own vector back: the one nearest to a fresh embedding of text 7 is number 7.
    const nearest = vectors
      .map((vector) => cosine(vector, again))
      .reduce((best, value, index, all) => (value > (all[best] as number) ? index : best), 0);
    assert.equal(nearest, 7);
    assert.ok(cosine(vectors[7] as number[], again) > 0.98);
    assert.ok((await runtime.health(AbortSignal.timeout(10_000))).ok);
  });

  it('deploys again after an undeploy: new replicas load the native runtime after the old ones ended', async () => {
    // onnxruntime-node's addon cannot be loaded by a new worker once every thread that had it has ended
    // ("Module did not self-register"); the provider keeps it loaded in the server's thread.
    await runtime.dispose(); // the suite's replicas end too (dispose is idempotent for after())
    for (let round = 0; round < 2; round++) {
      const again = await provider.createRuntime(builtInSpec('local/all-minilm-l6-v2'), { logger: silentLogger });
      assert.equal((await again.embeddings?.embedQuery('hello again'))?.length, 384);
      await again.dispose();
    }
  });
});
