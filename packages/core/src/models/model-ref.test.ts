import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EnsembleError } from '../errors/ensemble-error.ts';
import { modelNameSchema } from './model-name.ts';
import { formatModelRef, parseModelRef } from './model-ref.ts';

describe('model names and refs', () => {
  it('accepts lowercase names with slashes and refuses the rest', () => {
    for (const name of ['openai/gpt-4o-mini', 'local/smollm2-135m', 'gpt-4.1', 'together/meta-llama/llama-3.1-8b']) {
      assert.ok(modelNameSchema.safeParse(name).success, name);
    }
    for (const name of ['', 'OpenAI/gpt', 'a//b', '/a', 'a/', 'a@1', 'a:b', 'a/b/c/d', 'x/versions', '-a', 'a b']) {
      assert.equal(modelNameSchema.safeParse(name).success, false, name);
    }
  });

  it('parses name, name@version and name:alias', () => {
    assert.deepEqual(parseModelRef('openai/gpt-4o-mini'), {
      name: 'openai/gpt-4o-mini',
      selector: { kind: 'default' },
    });
    assert.deepEqual(parseModelRef('openai/gpt-4o-mini@3'), {
      name: 'openai/gpt-4o-mini',
      selector: { kind: 'version', version: 3 },
    });
    assert.deepEqual(parseModelRef('local/smollm2-135m:production'), {
      name: 'local/smollm2-135m',
      selector: { kind: 'alias', alias: 'production' },
    });
    for (const ref of ['a@3', 'a:staging', 'a/b']) assert.equal(formatModelRef(parseModelRef(ref)), ref);
  });

  it('refuses bad refs with a validation error naming the field', () => {
    for (const ref of ['a@0', 'a@x', 'a@1:b', 'a:B', 'A', 'a@', 'a:', 'a@99999999999']) {
      assert.throws(
        () => parseModelRef(ref, 'body.model'),
        (error: unknown) =>
          error instanceof EnsembleError && error.code === 'validation_failed' && error.field === 'body.model',
        ref,
      );
    }
  });
});
