// The /v1 gateway through the official openai SDK, against a running app whose model is an
// OpenAI-compatible upstream replaying OpenAI's recorded wire format.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { configSchema, ModelRuntimeManager, newApiKeySchema, registerModelSchema, silentLogger } from '@ensemble/core';
import { hostedProviders } from '@ensemble/providers/hosted';
import {
  buildApp,
  createLogger,
  type EnsembleApp,
  modelRuntimeModule,
  modelsModule,
  openAiGatewayModule,
} from '@ensemble/server';
import OpenAI from 'openai';
import { readChunks, readFixture } from '../../../providers/src/shared/testing/fixtures.ts';
import { type ReplayServer, startReplayServer } from '../../../providers/src/shared/testing/replay-server.ts';
import { jsonBody, openAiStream } from '../../../providers/src/shared/testing/wire-formats.ts';
import { MemoryRouteLookup } from '../../../server/src/modules/openai-gateway/testing/memory-route-lookup.ts';
import { systemClock } from '../runtime/system-clock.ts';
import { openTestRegistry, type TestRegistry } from '../testing/test-registry.ts';

const fixtures = join(import.meta.dirname, '../../../providers/src/openai/__fixtures__');
const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

describe('OpenAI SDK against /v1 with a replayed OpenAI-compatible upstream', { timeout: 120_000 }, () => {
  let registry: TestRegistry;
  let replay: ReplayServer;
  let manager: ModelRuntimeManager;
  let app: EnsembleApp;
  let client: OpenAI;
  let url: string;
  const routes = new MemoryRouteLookup();

  const register = (name: string, extra: Record<string, unknown> = {}) =>
    registry.models.register(
      registerModelSchema.parse({
        name,
        kind: 'chat',
        provider: 'openai-compatible',
        providerModelId: 'gpt-4o-mini',
        baseUrl: `${replay.url}/v1`,
        ...extra,
      }),
      { actor: 'test' },
    );
  const lastUpstreamBody = () => replay.requests.at(-1)?.json() ?? {};

  before(async () => {
    registry = await openTestRegistry('gateway_hosted');
    replay = await startReplayServer();
    manager = new ModelRuntimeManager({
      providers: new Map(hostedProviders.map((provider) => [provider.id, provider])),
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
      modules: [
        modelsModule(registry.models),
        modelRuntimeModule(manager),
        // Replayed answers repeat the same request: the response cache would answer them instead.
        openAiGatewayModule({ runtimes: manager, models: registry.models, routes, cache: { ttlMs: 0 } }),
      ],
    });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    client = new OpenAI({ baseURL: `${url}/v1`, apiKey: registry.keys.adminKey, maxRetries: 0 });
    await register('replay/gpt');
    await register('replay/embedder', { kind: 'embedding', options: { embeddingEncoding: 'float' } });
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

  it('answers a chat completion in OpenAI shape, passing messages and stop upstream', async () => {
    replay.reply(jsonBody(readFixture(fixtures, 'chat-completion.json')));
    const completion = await client.chat.completions.create({
      model: 'replay/gpt',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'What does Ensemble do?' },
      ],
      stop: '\n\n',
      user: 'user-1',
      metadata: { team: 'search' },
    });
    assert.equal(completion.object, 'chat.completion');
    assert.match(completion.id, /^chatcmpl-/);
    // Passed through: the upstream's answer as it sent it, its own model snapshot included (as OpenAI names it).
    assert.equal(completion.model, 'gpt-4o-mini-2024-07-18');
    assert.equal(typeof completion.created, 'number');
    assert.equal(
      completion.choices[0]?.message.content,
      'Ensemble routes each request to the model that fits it best.',
    );
    assert.equal(completion.choices[0]?.finish_reason, 'stop');
    assert.ok((completion.usage?.total_tokens ?? 0) > 0);
    const sent = lastUpstreamBody() as { model: string; messages: Array<{ role: string }>; stop: string; user: string };
    assert.deepEqual(
      sent.messages.map((message) => message.role),
      ['system', 'user'],
    );
    // Forwarded as the client sent it, with the upstream's model id.
    assert.equal(sent.stop, '\n\n');
    assert.equal(sent.model, 'gpt-4o-mini');
    assert.equal(sent.user, 'user-1');
  });

  it('passes response_format json_object through to an OpenAI-wire upstream', async () => {
    replay.reply(jsonBody(readFixture(fixtures, 'chat-completion.json')));
    await client.chat.completions.create({
      model: 'replay/gpt',
      messages: [{ role: 'user', content: 'Answer in JSON.' }],
      response_format: { type: 'json_object' },
    });
    assert.deepEqual(lastUpstreamBody().response_format, { type: 'json_object' });
  });

  it('function calling round trip: tools bound upstream, tool_calls back, tool results sent on', async () => {
    replay.reply(jsonBody(readFixture(fixtures, 'chat-tool-call.json')));
    const first = await client.chat.completions.create({
      model: 'replay/gpt',
      messages: [{ role: 'user', content: 'Weather in Lisbon?' }],
      tools: [weatherTool],
      tool_choice: 'auto',
    });
    const choice = first.choices[0];
    assert.equal(choice?.finish_reason, 'tool_calls');
    assert.equal(choice?.message.content, null);
    const call = choice?.message.tool_calls?.[0];
    assert.ok(call !== undefined && call.type === 'function');
    assert.equal(call.id, 'call_Qd7pXo2vR9sLwE4mNc6bTy1A');
    assert.equal(call.function.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Lisbon', unit: 'celsius' });
    const upstream = lastUpstreamBody() as { tools: Array<{ function: { name: string } }>; tool_choice: string };
    assert.equal(upstream.tools[0]?.function.name, 'get_weather');
    assert.equal(upstream.tool_choice, 'auto');

    replay.reply(jsonBody(readFixture(fixtures, 'chat-completion.json')));
    const second = await client.chat.completions.create({
      model: 'replay/gpt',
      messages: [
        { role: 'user', content: 'Weather in Lisbon?' },
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: call.id, content: '{"celsius": 21}' },
      ],
      tools: [weatherTool],
    });
    assert.equal(second.choices[0]?.finish_reason, 'stop');
    const sent = lastUpstreamBody() as {
      messages: Array<{ role: string; tool_call_id?: string; tool_calls?: Array<{ id: string }> }>;
    };
    assert.deepEqual(
      sent.messages.map((message) => message.role),
      ['user', 'assistant', 'tool'],
    );
    assert.equal(sent.messages[1]?.tool_calls?.[0]?.id, call.id);
    assert.equal(sent.messages[2]?.tool_call_id, call.id);
  });

  it('streams chunks, then the usage chunk, then [DONE]', async () => {
    replay.reply({ ...openAiStream(readChunks(fixtures, 'chat-completion.chunks.txt')), chunkDelayMs: 2 });
    const stream = await client.chat.completions.create({
      model: 'replay/gpt',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
      text += chunk.choices[0]?.delta.content ?? '';
    }
    assert.equal(text, 'Hello from Ensemble.');
    assert.ok(
      chunks.every((chunk) => chunk.object === 'chat.completion.chunk' && chunk.model === 'gpt-4o-mini-2024-07-18'),
    );
    assert.equal(chunks[0]?.choices[0]?.delta.role, 'assistant');
    assert.equal(chunks.at(-2)?.choices[0]?.finish_reason, 'stop');
    assert.deepEqual(chunks.at(-1)?.choices, []);
    const usage = chunks.at(-1)?.usage;
    assert.deepEqual(
      { prompt: usage?.prompt_tokens, completion: usage?.completion_tokens, total: usage?.total_tokens },
      { prompt: 11, completion: 4, total: 15 },
    );
  });

  it('ends the raw stream with data: [DONE] and sends no usage chunk unless asked', async () => {
    replay.reply({ ...openAiStream(readChunks(fixtures, 'chat-completion.chunks.txt')), chunkDelayMs: 2 });
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...registry.keys.admin },
      body: JSON.stringify({ model: 'replay/gpt', messages: [{ role: 'user', content: 'hi' }], stream: true }),
    });
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const raw = await response.text();
    assert.ok(raw.endsWith('data: [DONE]\n\n'));
    assert.ok(!raw.includes('event:'));
    assert.ok(!raw.includes('"usage"'));
  });

  it('streams tool-call deltas the SDK assembles', async () => {
    replay.reply({ ...openAiStream(readChunks(fixtures, 'chat-tool-call.chunks.txt')), chunkDelayMs: 2 });
    const stream = await client.chat.completions.create({
      model: 'replay/gpt',
      messages: [{ role: 'user', content: 'Weather in Porto?' }],
      tools: [weatherTool],
      stream: true,
    });
    let name = '';
    let args = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
        name += call.function?.name ?? '';
        args += call.function?.arguments ?? '';
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(name, 'get_weather');
    assert.deepEqual(JSON.parse(args), { city: 'Porto' });
    assert.equal(finish, 'tool_calls');
  });

  it('a mid-stream upstream failure is an error in the SDK stream, not a clean end', async () => {
    const [first, second] = readChunks(fixtures, 'chat-completion.chunks.txt');
    const upstreamError = JSON.stringify(JSON.parse(readFixture(fixtures, 'error-500.json')));
    replay.reply({ ...openAiStream([first as string, second as string, upstreamError]), chunkDelayMs: 2 });
    const stream = await client.chat.completions.create({
      model: 'replay/gpt',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    let text = '';
    await assert.rejects(
      async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      },
      (error: unknown) => error instanceof OpenAI.APIError && /server had an error/.test(error.message),
    );
    assert.equal(text, 'Hello');
  });

  it('a client that disconnects mid-stream stops the upstream call', async () => {
    const [first, word] = readChunks(fixtures, 'chat-completion.chunks.txt');
    let closed: () => void = () => {};
    const upstreamClosed = new Promise<void>((resolve) => {
      closed = resolve;
    });
    // An upstream that streams a word every 20 ms until its client goes away.
    const endless = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${first}\n\n`);
      const timer = setInterval(() => res.write(`data: ${word}\n\n`), 20);
      res.on('close', () => {
        clearInterval(timer);
        closed();
      });
    });
    await new Promise<void>((resolve) => endless.listen(0, '127.0.0.1', resolve));
    try {
      await register('replay/endless', {
        baseUrl: `http://127.0.0.1:${(endless.address() as AddressInfo).port}/v1`,
      });
      const stream = await client.chat.completions.create({
        model: 'replay/endless',
        messages: [{ role: 'user', content: 'go on' }],
        stream: true,
      });
      let words = 0;
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta.content) words += 1;
        if (words === 2) break; // leaving the loop aborts the SDK's request
      }
      const stopped = await Promise.race([
        upstreamClosed.then(() => true),
        new Promise((resolve) => setTimeout(() => resolve(false), 5_000)),
      ]);
      assert.equal(stopped, true, 'the upstream request was closed');
    } finally {
      endless.closeAllConnections();
      await new Promise((resolve) => endless.close(resolve));
    }
  });

  it('a failure before the first chunk is an ordinary error status', async () => {
    replay.reply(jsonBody(readFixture(fixtures, 'error-500.json'), 500));
    await assert.rejects(
      client.chat.completions.create({
        model: 'replay/gpt',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      }),
      (error: unknown) => error instanceof OpenAI.APIError && error.status === 502 && error.code === 'upstream_error',
    );
  });

  it('embeds as floats, and as base64 the SDK decodes to the same float32 values', async () => {
    replay.reply(jsonBody(readFixture(fixtures, 'embeddings-float.json')));
    const floats = await client.embeddings.create({
      model: 'replay/embedder',
      input: 'hello',
      encoding_format: 'float',
    });
    assert.deepEqual(floats.data[0]?.embedding, [0.0125, -0.03125, 0.5, -0.75]);
    assert.equal(floats.object, 'list');
    assert.equal(floats.model, 'text-embedding-3-small');
    assert.equal(lastUpstreamBody().encoding_format, 'float', 'a float-only server is asked for floats');

    // Without encoding_format the SDK asks for base64 and decodes it.
    replay.reply(jsonBody(readFixture(fixtures, 'embeddings-float.json')));
    const decoded = await client.embeddings.create({ model: 'replay/embedder', input: ['hello'] });
    assert.deepEqual(decoded.data[0]?.embedding, [0.0125, -0.03125, 0.5, -0.75].map(Math.fround));

    replay.reply(jsonBody(readFixture(fixtures, 'embeddings-float.json')));
    const base64 = await client.embeddings.create({
      model: 'replay/embedder',
      input: 'hello',
      encoding_format: 'base64',
    });
    const bytes = Buffer.from(base64.data[0]?.embedding as unknown as string, 'base64');
    assert.deepEqual(
      Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4)),
      [0.0125, -0.03125, 0.5, -0.75].map(Math.fround),
    );
  });

  it('lists and retrieves models by registry name, / included', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    assert.ok(ids.includes('replay/gpt') && ids.includes('replay/embedder'));
    assert.ok(ids.every((id) => id.startsWith('replay/')));
    const model = await client.models.retrieve('replay/gpt');
    assert.deepEqual(
      { id: model.id, object: model.object, owned_by: model.owned_by },
      {
        id: 'replay/gpt',
        object: 'model',
        owned_by: 'openai-compatible',
      },
    );
    const raw = await fetch(`${url}/v1/models/replay/gpt`, { headers: registry.keys.admin });
    assert.equal(((await raw.json()) as { id: string }).id, 'replay/gpt');
  });

  it('documents the /v1 routes in the OpenAPI document', async () => {
    const response = await app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(response.statusCode, 200);
    const paths = Object.keys((response.json() as { paths: Record<string, unknown> }).paths);
    for (const path of ['/v1/chat/completions', '/v1/embeddings', '/v1/models', '/v1/models/{name}']) {
      assert.ok(paths.includes(path), path);
    }
  });

  it('a wrong or revoked API key is the SDK’s AuthenticationError, before anything reaches the upstream', async () => {
    const wrong = new OpenAI({ baseURL: `${url}/v1`, apiKey: `ens_${'w'.repeat(43)}`, maxRetries: 0 });
    const isAuthenticationError = (error: unknown) =>
      error instanceof OpenAI.AuthenticationError && error.status === 401 && error.type === 'authentication_error';
    await assert.rejects(
      wrong.chat.completions.create({ model: 'replay/gpt', messages: [{ role: 'user', content: 'hi' }] }),
      isAuthenticationError,
    );
    await assert.rejects(wrong.models.list(), isAuthenticationError);

    const { key, secret } = await registry.keys.store.create('default', newApiKeySchema.parse({ name: 'sdk' }));
    const revocable = new OpenAI({ baseURL: `${url}/v1`, apiKey: secret, maxRetries: 0 });
    assert.ok((await revocable.models.list()).data.length > 0);
    await registry.keys.store.revoke('default', key.id);
    await assert.rejects(revocable.models.list(), isAuthenticationError);
    assert.equal(replay.requests.length, 0);
  });

  it('errors: unknown model 404 model_not_found, bad bodies 400 naming the param', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'nope/missing', messages: [{ role: 'user', content: 'hi' }] }),
      (error: unknown) =>
        error instanceof OpenAI.NotFoundError && error.code === 'model_not_found' && error.param === 'model',
    );
    await assert.rejects(client.models.retrieve('nope/missing'), OpenAI.NotFoundError);
    await assert.rejects(
      client.embeddings.create({ model: 'nope/missing', input: 'x' }),
      (error: unknown) => error instanceof OpenAI.NotFoundError && error.code === 'model_not_found',
    );
    await assert.rejects(
      client.chat.completions.create({ model: 'replay/gpt', messages: [] }),
      (error: unknown) => error instanceof OpenAI.BadRequestError && error.param === 'messages',
    );
    await assert.rejects(
      client.chat.completions.create({ model: 'replay/gpt', messages: [{ role: 'user', content: 'hi' }], n: 0 }),
      (error: unknown) => error instanceof OpenAI.BadRequestError && error.param === 'n',
    );
    await assert.rejects(
      client.chat.completions.create({ model: 'replay/embedder', messages: [{ role: 'user', content: 'hi' }] }),
      (error: unknown) => error instanceof OpenAI.BadRequestError && error.param === 'model',
    );
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...registry.keys.admin },
      body: JSON.stringify({ model: 'replay/gpt', messages: [{ role: 'wizard', content: 'hi' }] }),
    });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: Record<string, unknown> };
    assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
    assert.equal(body.error.type, 'invalid_request_error');
    assert.equal(body.error.param, 'messages[0].role');
    assert.equal(replay.requests.length, 0, 'nothing reached the upstream');
  });

  it('upstream answers keep their meaning: a 400 as sent, 401 → 502, 429 with Retry-After, 500 → 502', async () => {
    const contextTooLong = {
      error: {
        message:
          "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.",
        type: 'invalid_request_error',
        param: 'messages',
        code: 'context_length_exceeded',
      },
    };
    replay.reply(jsonBody(JSON.stringify(contextTooLong), 400));
    const ask = () =>
      client.chat.completions.create({ model: 'replay/gpt', messages: [{ role: 'user', content: 'hi' }] });
    await assert.rejects(
      ask(),
      (error: unknown) =>
        error instanceof OpenAI.BadRequestError &&
        error.code === 'context_length_exceeded' &&
        error.param === 'messages' &&
        /maximum context length/.test(error.message),
    );
    replay.reply(jsonBody(readFixture(fixtures, 'error-401.json'), 401));
    await assert.rejects(
      ask(),
      (error: unknown) =>
        error instanceof OpenAI.APIError && error.status === 502 && error.code === 'upstream_auth_failed',
    );
    replay.reply(jsonBody(readFixture(fixtures, 'error-429.json'), 429, { 'retry-after': '20' }));
    const limited = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...registry.keys.admin },
      body: JSON.stringify({ model: 'replay/gpt', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '20');
    assert.equal(((await limited.json()) as { error: { code: string } }).error.code, 'rate_limited');
    replay.reply(jsonBody(readFixture(fixtures, 'error-500.json'), 500));
    await assert.rejects(
      ask(),
      (error: unknown) => error instanceof OpenAI.APIError && error.status === 502 && error.code === 'upstream_error',
    );
  });

  it('a route is called like a model: it falls back past a dead target, streamed too, and is listed', async () => {
    // A model whose server is gone (a closed port), then the replayed one.
    await register('replay/dead', { baseUrl: 'http://127.0.0.1:9/v1' });
    routes.set('default', { name: 'smart', policy: { strategy: 'fallback', targets: ['replay/dead', 'replay/gpt'] } });
    replay.reply(jsonBody(readFixture(fixtures, 'chat-completion.json')));
    const { data, response } = await client.chat.completions
      .create({ model: 'smart', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    assert.equal(data.choices[0]?.message.content, 'Ensemble routes each request to the model that fits it best.');
    assert.equal(response.headers.get('x-ensemble-target'), 'replay/gpt@1');
    assert.equal(response.headers.get('x-ensemble-route'), 'smart@1');

    replay.reply({ ...openAiStream(readChunks(fixtures, 'chat-completion.chunks.txt')), chunkDelayMs: 2 });
    let text = '';
    const stream = await client.chat.completions.create({
      model: 'smart',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, 'Hello from Ensemble.');

    const listed: Array<{ id: string; owned_by: string }> = [];
    for await (const model of client.models.list()) listed.push(model);
    assert.equal(listed.find((model) => model.id === 'smart')?.owned_by, 'ensemble-route');
  });
});
