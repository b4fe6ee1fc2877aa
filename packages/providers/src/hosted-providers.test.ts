import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostedProviders } from './hosted-providers.ts';

describe('hosted providers', () => {
  it('lists each hosted provider once, each serving chat', () => {
    const ids = hostedProviders.map((provider) => provider.id);
    assert.deepEqual(ids, ['openai', 'openai-compatible', 'anthropic', 'bedrock', 'gemini', 'azure-openai']);
    assert.equal(new Set(ids).size, ids.length);
    for (const provider of hostedProviders) assert.ok(provider.kinds.includes('chat'), provider.id);
  });
});
