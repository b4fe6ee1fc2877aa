import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '@ensemble/core';
import { builtInArtifacts, builtInSpec } from './built-in-artifacts.testing.ts';
import { createLocalProvider, type LocalModelRuntime } from './local-provider.ts';

describe('local classifiers', () => {
  let languages: LocalModelRuntime;
  let sentiment: LocalModelRuntime;
  before(async () => {
    const provider = createLocalProvider({ artifacts: await builtInArtifacts() });
    [languages, sentiment] = (await Promise.all([
      provider.createRuntime(builtInSpec('local/fasttext-lid-176'), { logger: silentLogger }),
      provider.createRuntime(builtInSpec('local/wink-sentiment'), { logger: silentLogger }),
    ])) as [LocalModelRuntime, LocalModelRuntime];
  });
  after(() => Promise.all([languages.dispose(), sentiment.dispose()]));

  it('identifies English, French, German and Spanish', async () => {
    const classifier = languages.classifier;
    assert.ok(classifier);
    const results = await classifier.invoke([
      'The weather is lovely today and we are going for a walk.',
      "Il fait très beau aujourd'hui et nous allons nous promener.",
      'Das Wetter ist heute schön und wir gehen spazieren.',
      'Hace muy buen tiempo hoy y vamos a dar un paseo.',
    ]);
    assert.deepEqual(
      results.map((labels) => labels[0]?.label),
      ['en', 'fr', 'de', 'es'],
    );
    for (const labels of results) {
      assert.ok((labels[0]?.score ?? 0) > 0.8);
      assert.ok(labels.length <= 3);
    }
  });

  it('tells positive from negative reviews', async () => {
    const classifier = sentiment.classifier;
    assert.ok(classifier);
    const [good, bad, negated] = await classifier.invoke([
      'I love this phone, the battery is amazing and the screen is beautiful.',
      'Terrible service, the food was cold and the waiter was rude.',
      'This is not good at all.',
    ]);
    assert.equal(good?.[0]?.label, 'positive');
    assert.equal(bad?.[0]?.label, 'negative');
    assert.equal(negated?.[0]?.label, 'negative');
    assert.ok(Math.abs((good?.[0]?.score ?? 0) + (good?.[1]?.score ?? 0) - 1) < 1e-9);
  });
});
