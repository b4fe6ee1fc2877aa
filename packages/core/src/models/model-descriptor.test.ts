import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskSecret } from './credential.ts';
import { mergeSpec, newModelVersionSchema, registerModelSchema, updateModelSchema } from './model-descriptor.ts';

const minimal = { name: 'openai/gpt-4o-mini', kind: 'chat', provider: 'openai', providerModelId: 'gpt-4o-mini' };

describe('model descriptor schemas', () => {
  it('fills defaults for a minimal registration and keeps other kinds storable', () => {
    const model = registerModelSchema.parse(minimal);
    assert.equal(model.projectId, 'default');
    assert.deepEqual(model.parameters, {});
    assert.deepEqual(model.capabilities, {});
    assert.deepEqual(model.aliases, []);
    assert.ok(registerModelSchema.safeParse({ ...minimal, kind: 'reranker' }).success);
  });

  it('names the wrong field', () => {
    const result = registerModelSchema.safeParse({
      ...minimal,
      pricing: { inputPerMillionTokens: -1, outputPerMillionTokens: 1 },
      baseUrl: 'ftp://x',
      capabilities: { dimensions: 0 },
      artifact: { sha256: 'abc', format: 'gguf' },
      extra: 1,
    });
    assert.equal(result.success, false);
    const paths = result.error?.issues.map((issue) => issue.path.join('.')).sort();
    assert.deepEqual(paths, [
      '',
      'artifact.sha256',
      'baseUrl',
      'capabilities.dimensions',
      'pricing.inputPerMillionTokens',
    ]);
  });

  it('merges a partial version over its base; null removes optional fields', () => {
    const base = registerModelSchema.parse({
      ...minimal,
      baseUrl: 'http://127.0.0.1:1234/v1',
      credential: 'openai',
      parameters: { temperature: 0 },
    });
    const merged = mergeSpec(base, newModelVersionSchema.parse({ providerModelId: 'gpt-4o', baseUrl: null }));
    assert.equal(merged.providerModelId, 'gpt-4o');
    assert.equal(merged.baseUrl, undefined);
    assert.equal(merged.credential, 'openai');
    assert.deepEqual(merged.parameters, { temperature: 0 });
  });

  it('refuses an empty patch and spec fields in a patch', () => {
    assert.equal(updateModelSchema.safeParse({}).success, false);
    assert.equal(updateModelSchema.safeParse({ provider: 'x' }).success, false);
    assert.ok(updateModelSchema.safeParse({ tags: ['a', 'a'] }).success);
  });

  it('masks secrets to a hint at most', () => {
    assert.equal(maskSecret('sk-proj-abcdefghijklmnop1234'), 'sk-…1234');
    assert.equal(maskSecret('short'), '');
    assert.ok(!maskSecret('abcdefghijklmnopqrstuvwxyz').includes('abcd'));
  });
});
