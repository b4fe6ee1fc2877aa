// The runtime manager against the real registry (PostgreSQL) and real providers: a hosted
// OpenAI-compatible model served by a local replay server in OpenAI's recorded wire format.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  createManualClock,
  EnsembleError,
  type ErrorCode,
  type ModelProvider,
  ModelRuntimeManager,
  type RegisterModelInput,
  registerModelSchema,
  silentLogger,
} from '@ensemble/core';
import { openAiCompatibleProvider } from '@ensemble/providers/hosted';
// The providers' own replay server and recorded fixtures, reused rather than copied.
import { readChunks, readFixture } from '../../../providers/src/shared/testing/fixtures.ts';
import { type ReplayServer, startReplayServer } from '../../../providers/src/shared/testing/replay-server.ts';
import { jsonBody, openAiStream } from '../../../providers/src/shared/testing/wire-formats.ts';
import { openTestRegistry, type TestRegistry } from '../testing/test-registry.ts';

const openAiFixtures = join(import.meta.dirname, '../../../providers/src/openai/__fixtures__');
const compatibleFixtures = join(import.meta.dirname, '../../../providers/src/openai-compatible/__fixtures__');
const modelsList = () => jsonBody(readFixture(compatibleFixtures, 'models.json'));
const serverError = () => jsonBody(readFixture(openAiFixtures, 'error-500.json'), 500);

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, message: RegExp): Promise<EnsembleError> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    caught = error;
    return true;
  });
  assert.ok(EnsembleError.isInstance(caught), String(caught));
  assert.equal(caught.code, code, caught.message);
  assert.match(caught.message, message);
  return caught;
}

describe('ModelRuntimeManager with the registry and a hosted OpenAI-compatible model', { timeout: 120_000 }, () => {
  let registry: TestRegistry;
  let server: ReplayServer;
  let created: number;
  let disposed: number;
  const clock = createManualClock(Date.now());
  let manager: ModelRuntimeManager;

  /** The real provider, counting what it builds and frees. */
  const countingProvider: ModelProvider = {
    id: openAiCompatibleProvider.id,
    kinds: openAiCompatibleProvider.kinds,
    async createRuntime(spec, context) {
      created += 1;
      // Slow enough that concurrent callers overlap.
      await new Promise((resolve) => setTimeout(resolve, 20));
      const runtime = await openAiCompatibleProvider.createRuntime(spec, context);
      return {
        ...runtime,
        health: (signal) => runtime.health(signal),
        dispose: async () => {
          disposed += 1;
          await runtime.dispose();
        },
      };
    },
  };

  const register = (name: string, extra: Partial<RegisterModelInput> = {}) =>
    registry.models.register(
      registerModelSchema.parse({
        name,
        kind: 'chat',
        provider: 'openai-compatible',
        providerModelId: 'Qwen/Qwen2.5-0.5B-Instruct',
        baseUrl: `${server.url}/v1`,
        ...extra,
      }),
      { actor: 'test' },
    );

  before(async () => {
    registry = await openTestRegistry('runtime_manager');
    server = await startReplayServer();
    manager = new ModelRuntimeManager({
      providers: new Map([[countingProvider.id, countingProvider]]),
      models: registry.models,
      revealCredential: (projectId, name) => registry.credentials.reveal(projectId, name),
      clock,
      logger: silentLogger,
      healthIntervalMs: 30_000,
      healthTimeoutMs: 5_000,
    });
    await register('vllm/qwen');
  });
  after(async () => {
    await manager?.close();
    await server?.close();
    await registry?.close();
  });
  beforeEach(() => {
    created = 0;
    disposed = 0;
    server.requests.length = 0;
  });

  it('deploys a hosted model by a health check: deploying, then ready, each a lifecycle event', async () => {
    server.reply(modelsList());
    const deployed = await manager.deploy('default', 'vllm/qwen', { actor: 'test', traceId: 'req-1' });
    assert.equal(deployed.status, 'ready');
    assert.equal(server.requests[0]?.url, '/v1/models');
    const changes = await registry.events('models/model.status-changed');
    assert.deepEqual(
      changes.map((event) => [event.data.from, event.data.to]),
      [
        ['registered', 'deploying'],
        ['deploying', 'ready'],
      ],
    );
    assert.equal(changes[0]?.key, 'default/vllm/qwen');
    const report = await manager.healthReport('default', 'vllm/qwen');
    assert.equal(report.loaded, true);
    assert.equal(report.runtimes[0]?.ok, true);
    assert.equal(typeof report.runtimes[0]?.latencyMs, 'number');
  });

  it('creates a runtime once when callers race for it, and calls the model through it', async () => {
    await manager.undeploy('default', 'vllm/qwen');
    created = 0;
    const [a, b, c] = await Promise.all([
      manager.runtimeFor('default', 'vllm/qwen'),
      manager.runtimeFor('default', 'vllm/qwen@1'),
      manager.runtimeFor('default', 'vllm/qwen'),
    ]);
    assert.equal(created, 1);
    assert.equal(a.runtime, b.runtime);
    assert.equal(a.runtime, c.runtime);
    assert.equal(a.descriptor.version, 1);

    server.reply(openAiStream(readChunks(openAiFixtures, 'chat-completion.chunks.txt')));
    const chunks = [];
    for await (const chunk of await (a.runtime.chat?.stream('hi') ?? [])) chunks.push(chunk.text);
    assert.deepEqual(
      chunks.filter((text) => text.length > 0),
      ['Hello', ' from', ' Ensemble', '.'],
    );
  });

  it('health loop: writes failed on the transition, nothing while it stays down, ready on recovery', async () => {
    await manager.undeploy('default', 'vllm/qwen');
    server.reply(modelsList());
    await manager.deploy('default', 'vllm/qwen');
    const before = (await registry.events('models/model.status-changed')).length;

    server.reply(serverError(), serverError());
    await manager.checkLoaded();
    await manager.checkLoaded();
    let model = await registry.models.resolve('default', 'vllm/qwen');
    assert.equal(model.status, 'failed');
    const report = await manager.healthReport('default', 'vllm/qwen');
    assert.equal(report.runtimes[0]?.ok, false);
    assert.equal(report.runtimes[0]?.consecutiveFailures, 2);
    assert.match(report.runtimes[0]?.lastError ?? '', /upstream_error/);

    // The periodic loop: one interval of the (manual) clock runs one round.
    server.reply(modelsList());
    clock.advance(30_000);
    for (let i = 0; i < 200 && model.status !== 'ready'; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      model = await registry.models.resolve('default', 'vllm/qwen');
    }
    assert.equal(model.status, 'ready');
    const changes = (await registry.events('models/model.status-changed')).slice(before);
    assert.deepEqual(
      changes.map((event) => [event.data.to, event.data.actor]),
      [
        ['failed', 'health-check'],
        ['ready', 'health-check'],
      ],
    );
    assert.match(String(changes[0]?.data.reason), /health check of vllm\/qwen@1 failed: upstream_error/);
    assert.equal((await manager.healthReport('default', 'vllm/qwen')).runtimes[0]?.lastError !== null, true);
  });

  it('a failed deploy marks the model failed with the reason and keeps nothing loaded', async () => {
    await manager.undeploy('default', 'vllm/qwen');
    disposed = 0;
    server.reply(serverError());
    await rejectsWith(manager.deploy('default', 'vllm/qwen'), 'upstream_error', /failed its health check/);
    const model = await registry.models.resolve('default', 'vllm/qwen');
    assert.equal(model.status, 'failed');
    const last = (await registry.events('models/model.status-changed')).at(-1);
    assert.equal(last?.data.to, 'failed');
    assert.match(String(last?.data.reason), /failed its health check/);
    assert.equal(disposed, 1);
    assert.equal((await manager.healthReport('default', 'vllm/qwen')).loaded, false);
  });

  it('undeploy disposes the runtime and sets the status back to registered', async () => {
    server.reply(modelsList());
    await manager.deploy('default', 'vllm/qwen');
    disposed = 0;
    const model = await manager.undeploy('default', 'vllm/qwen');
    assert.equal(model.status, 'registered');
    assert.equal(disposed, 1);
    assert.equal((await registry.events('models/model.status-changed')).at(-1)?.data.to, 'registered');
  });

  it('health on demand is bounded by the health timeout', async () => {
    server.reply({ ...modelsList(), delayMs: 2_000 });
    const checking = manager.health('default', 'vllm/qwen');
    // Let the runtime load and the probe start, then let the (manual) timeout fire.
    for (let i = 0; i < 100 && clock.pendingSleeps() < 2; i += 1) await new Promise((r) => setTimeout(r, 5));
    clock.advance(5_000);
    const report = await checking;
    assert.equal(report.runtimes[0]?.ok, false);
    assert.match(report.runtimes[0]?.lastError ?? '', /took longer than 5000 ms/);
    await manager.undeploy('default', 'vllm/qwen');
  });

  it('refuses an unknown provider, a missing credential, a retired model and a wrong kind, clearly', async () => {
    await register('custom/thing', { provider: 'no-such-provider' });
    const unknown = await rejectsWith(
      manager.runtimeFor('default', 'custom/thing'),
      'validation_failed',
      /provider: model 'custom\/thing' names provider 'no-such-provider', which is not installed here; known providers: openai-compatible/,
    );
    assert.equal(unknown.field, 'provider');

    await register('vllm/keyed', { credential: 'vllm-key' });
    const missing = await rejectsWith(
      manager.runtimeFor('default', 'vllm/keyed'),
      'validation_failed',
      /credential 'vllm-key', which does not exist in project 'default'/,
    );
    assert.equal(missing.field, 'credential');

    await register('vllm/embedder', { kind: 'embedding' });
    await rejectsWith(
      manager.runtimeFor('default', 'vllm/embedder', { kinds: ['chat'], as: 'a chat model', field: 'body.messages' }),
      'validation_failed',
      /body\.messages: model 'vllm\/embedder' is an embedding model, not a chat model/,
    );
    await register('vllm/classifier', { kind: 'classifier' });
    await rejectsWith(
      manager.runtimeFor('default', 'vllm/classifier'),
      'validation_failed',
      /is a classifier model, not a kind provider 'openai-compatible' serves \(chat, embedding\)/,
    );

    await register('vllm/old');
    await registry.models.setStatus('default', 'vllm/old', 'retired', { actor: 'test' });
    await rejectsWith(manager.runtimeFor('default', 'vllm/old'), 'conflict', /is retired/);
    await rejectsWith(manager.deploy('default', 'vllm/old'), 'conflict', /is retired/);
    await rejectsWith(manager.runtimeFor('default', 'vllm/nope'), 'not_found', /vllm\/nope/);
    assert.equal(created, 0, 'nothing was built for a refused call');
  });

  it('with a stored credential, sends it to the provider', async () => {
    await registry.credentials.create({
      projectId: 'default',
      name: 'vllm-key',
      provider: 'openai-compatible',
      secret: 'sk-test-0123456789abcdef',
    });
    server.reply(modelsList());
    await manager.deploy('default', 'vllm/keyed');
    assert.equal(server.requests.at(-1)?.headers.authorization, 'Bearer sk-test-0123456789abcdef');
  });
});
