// /api/models/{name}/invoke, deploy, undeploy, health: the server module, the runtime manager, the
// registry in PostgreSQL and the real OpenAI-compatible provider against a replay of OpenAI's wire format.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { configSchema, ModelRuntimeManager, newApiKeySchema, registerModelSchema, silentLogger } from '@ensemble/core';
import { openAiCompatibleProvider } from '@ensemble/providers/hosted';
import { buildApp, createLogger, type EnsembleApp, modelRuntimeModule, modelsModule } from '@ensemble/server';
import { readChunks, readFixture } from '../../../providers/src/shared/testing/fixtures.ts';
import { type ReplayServer, startReplayServer } from '../../../providers/src/shared/testing/replay-server.ts';
import { jsonBody, openAiStream } from '../../../providers/src/shared/testing/wire-formats.ts';
import { systemClock } from '../runtime/system-clock.ts';
import { readSse } from '../testing/read-sse.ts';
import { openTestRegistry, type TestRegistry } from '../testing/test-registry.ts';

const openAiFixtures = join(import.meta.dirname, '../../../providers/src/openai/__fixtures__');
const compatibleFixtures = join(import.meta.dirname, '../../../providers/src/openai-compatible/__fixtures__');
const chunks = () => readChunks(openAiFixtures, 'chat-completion.chunks.txt');

/** An OpenAI-compatible server that streams a token every 20 ms until its client goes away. */
async function startEndlessStream(): Promise<{ url: string; closedEarly: Promise<void>; close(): Promise<void> }> {
  let markClosed: () => void = () => {};
  const closedEarly = new Promise<void>((resolve) => {
    markClosed = resolve;
  });
  const server: Server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const [first, word] = chunks();
    res.write(`data: ${first}\n\n`);
    const timer = setInterval(() => res.write(`data: ${word}\n\n`), 20);
    res.on('close', () => {
      clearInterval(timer);
      markClosed();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    closedEarly,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('model runtime API', { timeout: 120_000 }, () => {
  let registry: TestRegistry;
  let replay: ReplayServer;
  let manager: ModelRuntimeManager;
  let app: EnsembleApp;
  let url: string;

  const call = async (
    method: 'GET' | 'POST',
    path: string,
    payload?: object,
    headers: Record<string, string> = registry.keys.admin,
  ) => {
    const response = await app.inject({
      method,
      url: path,
      headers,
      ...(payload === undefined ? {} : { payload }),
    });
    return { status: response.statusCode, body: response.body === '' ? undefined : response.json() };
  };
  const register = (name: string, extra: Record<string, unknown> = {}) =>
    registry.models.register(
      registerModelSchema.parse({
        name,
        kind: 'chat',
        provider: 'openai-compatible',
        providerModelId: 'Qwen/Qwen2.5-0.5B-Instruct',
        baseUrl: `${replay.url}/v1`,
        ...extra,
      }),
      { actor: 'test' },
    );
  const stream = (name: string, signal?: AbortSignal) =>
    fetch(`${url}/api/models/${name}/invoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...registry.keys.admin },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], stream: true }),
      ...(signal === undefined ? {} : { signal }),
    });

  before(async () => {
    registry = await openTestRegistry('runtime_api');
    replay = await startReplayServer();
    manager = new ModelRuntimeManager({
      providers: new Map([[openAiCompatibleProvider.id, openAiCompatibleProvider]]),
      models: registry.models,
      revealCredential: (projectId, name) => registry.credentials.reveal(projectId, name),
      clock: systemClock,
      logger: silentLogger,
      healthIntervalMs: 0,
    });
    app = await buildApp({
      config: configSchema.parse({ log: { level: 'silent' } }),
      logger: createLogger({ level: 'silent' }),
      authenticator: registry.keys.store,
      checks: [],
      modules: [modelsModule(registry.models), modelRuntimeModule(manager)],
    });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    await register('vllm/qwen', { aliases: ['production'] });
    await register('vllm/embedder', { kind: 'embedding', options: { embeddingEncoding: 'float' } });
  });
  after(async () => {
    await app?.close();
    await manager?.close();
    await replay?.close();
    await registry?.close();
  });
  beforeEach(() => {
    replay.requests.length = 0;
  });

  it('answers a chat invoke with the message, usage and latency, by name, @version and :alias', async () => {
    for (const ref of ['vllm/qwen', 'vllm/qwen@1', 'vllm/qwen:production']) {
      replay.reply(jsonBody(readFixture(openAiFixtures, 'chat-completion.json')));
      const { status, body } = await call('POST', `/api/models/${ref}/invoke`, {
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'What does Ensemble do?' },
        ],
        parameters: { stop: ['\n\n'] },
      });
      assert.equal(status, 200, JSON.stringify(body));
      assert.deepEqual(body.message, {
        role: 'assistant',
        content: 'Ensemble routes each request to the model that fits it best.',
      });
      assert.equal(body.model, 'vllm/qwen');
      assert.equal(body.version, 1);
      assert.equal(typeof body.usage.totalTokens, 'number');
      assert.equal(typeof body.latencyMs, 'number');
    }
    const sent = replay.requests.at(-1)?.json() as { messages: Array<{ role: string }>; stop: string[] };
    assert.deepEqual(
      sent.messages.map((message) => message.role),
      ['system', 'user'],
    );
    assert.deepEqual(sent.stop, ['\n\n']);
  });

  it('streams a chat answer as SSE: several token events, then done with usage', async () => {
    replay.reply({ ...openAiStream(chunks()), chunkDelayMs: 5 });
    const response = await stream('vllm/qwen');
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.ok(response.headers.get('x-request-id'));
    const events = await readSse(response);
    const tokens = events.filter((event) => event.event === 'token');
    assert.deepEqual(
      tokens.map((event) => (event.data as { delta: string }).delta),
      ['Hello', ' from', ' Ensemble', '.'],
    );
    assert.equal(events.at(-1)?.event, 'done');
    assert.deepEqual((events.at(-1)?.data as { usage: unknown } | undefined)?.usage, {
      inputTokens: 11,
      outputTokens: 4,
      totalTokens: 15,
    });
    assert.equal(events.filter((event) => event.event === 'done').length, 1);
  });

  it('a failure mid-stream sends event: error in the OpenAI shape and no done', async () => {
    const [first, second] = chunks();
    const upstreamError = JSON.stringify(JSON.parse(readFixture(openAiFixtures, 'error-500.json')));
    replay.reply({ ...openAiStream([first as string, second as string, upstreamError]), chunkDelayMs: 5 });
    const events = await readSse(await stream('vllm/qwen'));
    assert.deepEqual(
      events.map((event) => event.event),
      ['token', 'error'],
    );
    type ErrorEvent = { error: { code: string; type: string; message: string; request_id: string } };
    const { error } = (events[1]?.data ?? { error: {} }) as ErrorEvent;
    assert.equal(error.code, 'upstream_error');
    assert.equal(error.type, 'server_error');
    assert.match(error.message, /server had an error/);
    assert.ok(error.request_id);
  });

  it('a model that fails before its first token gets an ordinary error response', async () => {
    replay.reply(jsonBody(readFixture(openAiFixtures, 'error-500.json'), 500));
    const response = await stream('vllm/qwen');
    assert.equal(response.status, 502);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'upstream_error');
  });

  it('a client that disconnects stops the generation upstream', async () => {
    const endless = await startEndlessStream();
    try {
      await register('vllm/endless', { baseUrl: `${endless.url}/v1` });
      const abort = new AbortController();
      const events = await readSse(await stream('vllm/endless', abort.signal), (event) => {
        if (event.event === 'token') abort.abort();
      });
      assert.equal(events.filter((event) => event.event === 'token').length, 1);
      const stopped = await Promise.race([
        endless.closedEarly.then(() => true),
        new Promise((resolve) => setTimeout(() => resolve(false), 5_000)),
      ]);
      assert.equal(stopped, true, 'the upstream request was closed');
    } finally {
      await endless.close();
    }
  });

  it('embeds input, one vector per text', async () => {
    replay.reply(jsonBody(readFixture(openAiFixtures, 'embeddings-float.json')));
    const { status, body } = await call('POST', '/api/models/vllm/embedder/invoke', { input: 'hello' });
    assert.equal(status, 200, JSON.stringify(body));
    assert.deepEqual(body.embeddings, [[0.0125, -0.03125, 0.5, -0.75]]);
    assert.equal(body.dimensions, 4);
    assert.equal(body.model, 'vllm/embedder');
  });

  it('a key limited to some models invokes those (versions and aliases too) and gets 403 for others', async () => {
    const { secret } = await registry.keys.store.create(
      'default',
      newApiKeySchema.parse({ name: 'qwen only', allowedModels: ['vllm/qwen'] }),
    );
    const limited = { authorization: `Bearer ${secret}` };
    for (const ref of ['vllm/qwen', 'vllm/qwen@1', 'vllm/qwen:production']) {
      replay.reply(jsonBody(readFixture(openAiFixtures, 'chat-completion.json')));
      const answer = await call(
        'POST',
        `/api/models/${ref}/invoke`,
        { messages: [{ role: 'user', content: 'hi' }] },
        limited,
      );
      assert.equal(answer.status, 200, ref);
    }
    replay.requests.length = 0;
    for (const [path, payload] of [
      ['/api/models/vllm/embedder/invoke', { input: 'hello' }],
      ['/api/models/vllm/nope/invoke', { input: 'hello' }],
      ['/api/models/vllm/embedder/deploy', undefined],
      ['/api/models/vllm/embedder/health', undefined],
    ] as const) {
      const refused = await call('POST', path, payload, limited);
      assert.equal(refused.status, 403, path);
      assert.equal(refused.body.error.type, 'permission_error');
      assert.equal(refused.body.error.param, 'params.name');
    }
    assert.equal(replay.requests.length, 0, 'nothing reached the upstream');
  });

  it('answers a body for another kind, unknown models and bad bodies with clear errors', async () => {
    const embedChat = await call('POST', '/api/models/vllm/qwen/invoke', { input: 'hello' });
    assert.equal(embedChat.status, 400);
    assert.equal(embedChat.body.error.param, 'body.input');
    assert.match(embedChat.body.error.message, /is a chat model, not an embedding or classifier model/);

    const chatEmbedder = await call('POST', '/api/models/vllm/embedder/invoke', {
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(chatEmbedder.status, 400);
    assert.equal(chatEmbedder.body.error.param, 'body.messages');

    const streamEmbedder = await call('POST', '/api/models/vllm/embedder/invoke', { input: 'x', stream: true });
    assert.equal(streamEmbedder.status, 400);
    assert.equal(streamEmbedder.body.error.param, 'body.stream');

    const empty = await call('POST', '/api/models/vllm/qwen/invoke', {});
    assert.equal(empty.status, 400);
    assert.equal(empty.body.error.param, 'body');

    const badRole = await call('POST', '/api/models/vllm/qwen/invoke', { messages: [{ role: 'robot', content: 'x' }] });
    assert.equal(badRole.status, 400);
    assert.equal(badRole.body.error.param, 'body.messages[0].role');

    const unknown = await call('POST', '/api/models/vllm/nope/invoke', { input: 'x' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'not_found');

    await register('acme/mystery', { provider: 'acme' });
    const provider = await call('POST', '/api/models/acme/mystery/invoke', {
      messages: [{ role: 'user', content: 'x' }],
    });
    assert.equal(provider.status, 400);
    assert.equal(provider.body.error.param, 'provider');

    await register('vllm/keyed', { credential: 'vllm-key' });
    const credential = await call('POST', '/api/models/vllm/keyed/deploy');
    assert.equal(credential.status, 400);
    assert.equal(credential.body.error.param, 'credential');
    assert.match(credential.body.error.message, /credential 'vllm-key', which does not exist/);
    assert.equal((await call('GET', '/api/models/vllm/keyed')).body.status, 'failed');
  });

  it('deploy, health and undeploy move the status and write lifecycle events', async () => {
    const before = (await registry.events('models/model.status-changed')).length;
    replay.reply(jsonBody(readFixture(compatibleFixtures, 'models.json')));
    const deployed = await call('POST', '/api/models/vllm/qwen/deploy');
    assert.equal(deployed.status, 200, JSON.stringify(deployed.body));
    assert.deepEqual(deployed.body, { projectId: 'default', name: 'vllm/qwen', version: 1, status: 'ready' });

    const health = await call('GET', '/api/models/vllm/qwen/health');
    assert.equal(health.status, 200);
    assert.equal(health.body.loaded, true);
    assert.equal(health.body.runtimes[0].ok, true);

    replay.reply(jsonBody(readFixture(openAiFixtures, 'error-500.json'), 500));
    const checked = await call('POST', '/api/models/vllm/qwen/health');
    assert.equal(checked.body.status, 'failed');
    assert.equal(checked.body.runtimes[0].ok, false);
    assert.match(checked.body.runtimes[0].lastError, /upstream_error/);
    assert.ok(checked.body.runtimes[0].lastErrorAt);

    const undeployed = await call('POST', '/api/models/vllm/qwen/undeploy');
    assert.equal(undeployed.body.status, 'registered');
    assert.equal((await call('GET', '/api/models/vllm/qwen/health')).body.loaded, false);

    const changes = (await registry.events('models/model.status-changed')).slice(before);
    assert.deepEqual(
      changes.map((event) => event.data.to),
      ['deploying', 'ready', 'failed', 'registered'],
    );
    assert.equal((await call('POST', '/api/models/vllm/nope/deploy')).status, 404);
  });
});
