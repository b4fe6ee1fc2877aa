// OpenAI-wire upstreams get the request as it came (model swapped, credential added, registry
// defaults under it) and their bytes back; usage is read on the way; failures keep their meaning.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, beforeEach, describe, it } from 'node:test';
import { newCredentialSchema } from '@ensemble/core';
import { request as httpRequest } from 'undici';
import {
  answerCompletion,
  type FakeOpenAiServer,
  fakeUsage,
  startFakeOpenAiServer,
  streamEvents,
} from './testing/fake-openai-server.ts';
import { type GatewayHarness, startGatewayHarness } from './testing/gateway-harness.ts';

describe('the pass-through to OpenAI-wire upstreams', { timeout: 60_000 }, () => {
  let upstream: FakeOpenAiServer;
  let gateway: GatewayHarness;

  const post = (path: string, body: object, signal?: AbortSignal) =>
    httpRequest(`${gateway.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...gateway.headers },
      body: JSON.stringify(body),
      ...(signal === undefined ? {} : { signal }),
    });
  const chat = (extra: Record<string, unknown> = {}) => ({
    model: 'wire/chat',
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'hi' },
          { type: 'image_url', image_url: { url: 'data:,' } },
        ],
      },
    ],
    ...extra,
  });

  before(async () => {
    upstream = await startFakeOpenAiServer();
    gateway = await startGatewayHarness('gateway_pass_through');
    await gateway.credentials.create(
      newCredentialSchema.parse({ name: 'upstream-key', provider: 'openai-compatible', secret: 'sk-upstream' }),
    );
    await gateway.register({
      name: 'wire/chat',
      baseUrl: upstream.baseUrl,
      credential: 'upstream-key',
      providerModelId: 'gpt-upstream',
      parameters: { temperature: 0.3, maxTokens: 100 },
      options: { timeoutMs: 500 },
    });
    await gateway.register({ name: 'wire/embedder', kind: 'embedding', baseUrl: upstream.baseUrl });
    await gateway.credentials.create(
      newCredentialSchema.parse({ name: 'azure-key', provider: 'azure-openai', secret: 'azure-secret' }),
    );
    await gateway.register({
      name: 'wire/azure',
      provider: 'azure-openai',
      providerModelId: 'my-deployment',
      credential: 'azure-key',
      options: { endpoint: upstream.baseUrl.replace(/\/v1$/, ''), apiVersion: '2024-10-21' },
    });
    await gateway.register({
      name: 'wire/float-embedder',
      kind: 'embedding',
      baseUrl: upstream.baseUrl,
      options: { embeddingEncoding: 'float' },
    });
  });
  after(async () => {
    await gateway?.close();
    await upstream?.close();
  });
  beforeEach(() => {
    gateway.usage.events.length = 0;
    upstream.requests.length = 0;
    upstream.handle(answerCompletion());
  });

  it('forwards the body as sent: model swapped, unknown fields kept, defaults under it, the credential as Bearer', async () => {
    const response = await post(
      '/v1/chat/completions',
      chat({ max_tokens: 7, seed: 42, logit_bias: { '50256': -100 }, metadata: { team: 'search' } }),
    );
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['x-ensemble-target'], 'wire/chat@1');
    const answer = (await response.body.json()) as { model: string; choices: Array<{ message: { content: string } }> };
    assert.equal(answer.choices[0]?.message.content, 'Hello from upstream.');
    const sent = upstream.requests[0];
    assert.equal(sent?.url, '/v1/chat/completions');
    assert.equal(sent?.headers.authorization, 'Bearer sk-upstream');
    assert.deepEqual(sent?.body, {
      temperature: 0.3,
      max_tokens: 7,
      model: 'gpt-upstream',
      messages: chat().messages,
      seed: 42,
      logit_bias: { '50256': -100 },
    });
    const [event] = await gateway.usage.waitFor(1);
    assert.deepEqual([event?.inputTokens, event?.outputTokens], [fakeUsage.prompt_tokens, fakeUsage.completion_tokens]);
  });

  it('Azure OpenAI: the deployment URL with its api-version, the key in api-key', async () => {
    const response = await post('/v1/chat/completions', chat({ model: 'wire/azure' }));
    assert.equal(response.statusCode, 200);
    await response.body.dump();
    const sent = upstream.requests[0];
    assert.equal(sent?.url, '/openai/deployments/my-deployment/chat/completions?api-version=2024-10-21');
    assert.equal(sent?.headers['api-key'], 'azure-secret');
    assert.equal(sent?.headers.authorization, undefined);
  });

  it('a stream the client asked no usage of: asked upstream for the ledger, taken out of what the client gets', async () => {
    const response = await post('/v1/chat/completions', chat({ stream: true }));
    assert.match(String(response.headers['content-type']), /^text\/event-stream/);
    const text = await response.body.text();
    assert.deepEqual(upstream.requests[0]?.body.stream_options, { include_usage: true });
    assert.ok(!text.includes('usage'), text);
    assert.ok(text.includes('"content":" from"'));
    assert.ok(text.endsWith('data: [DONE]\n\n'));
    const [event] = await gateway.usage.waitFor(1);
    assert.equal(event?.outputTokens, fakeUsage.completion_tokens);
  });

  it('a stream the client asked usage of: the upstream bytes unchanged', async () => {
    const response = await post(
      '/v1/chat/completions',
      chat({ stream: true, stream_options: { include_usage: true } }),
    );
    const text = await response.body.text();
    assert.equal(text, `${streamEvents(['Hello', ' from', ' upstream.'], true).join('')}data: [DONE]\n\n`);
  });

  it('a stream that stops without [DONE] ends with an error chunk, never a clean end', async () => {
    upstream.handle((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.end(streamEvents(['Hello'], false).slice(0, 2).join(''));
    });
    const text = await (await post('/v1/chat/completions', chat({ stream: true }))).body.text();
    assert.ok(!text.includes('[DONE]'));
    const last = text.trim().split('\n\n').at(-1) ?? '';
    assert.equal((JSON.parse(last.slice('data: '.length)) as { error: { code: string } }).error.code, 'upstream_error');
  });

  it('a client that leaves a stream closes the upstream request', async () => {
    let upstreamClosed: Promise<unknown> = Promise.resolve();
    upstream.handle((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(streamEvents(['Hello'], false)[0] ?? '');
      upstreamClosed = once(response, 'close');
      // …and nothing more: the gateway must close it when its client goes away.
    });
    const controller = new AbortController();
    const response = await post('/v1/chat/completions', chat({ stream: true }), controller.signal);
    for await (const _part of response.body) {
      controller.abort();
      break;
    }
    await upstreamClosed;
    const [event] = await gateway.usage.waitFor(1);
    assert.equal(event?.errorCode, 'client_disconnected');
  });

  it('an upstream that does not answer within the model timeout: 504 timeout', async () => {
    upstream.handle(() => {});
    const response = await post('/v1/chat/completions', chat());
    assert.equal(response.statusCode, 504);
    assert.equal(((await response.body.json()) as { error: { code: string } }).error.code, 'timeout');
  });

  it('embeddings pass through with their usage; a float-only server still answers base64', async () => {
    const response = await post('/v1/embeddings', { model: 'wire/embedder', input: ['a', 'b'] });
    const list = (await response.body.json()) as { data: Array<{ embedding: number[] }> };
    assert.deepEqual(list.data[1]?.embedding, [0.5, -0.25, 0.125]);
    assert.equal(upstream.requests[0]?.body.model, 'upstream-model');

    const base64 = await post('/v1/embeddings', {
      model: 'wire/float-embedder',
      input: 'a',
      encoding_format: 'base64',
    });
    const encoded = (await base64.body.json()) as { data: Array<{ embedding: string }> };
    assert.equal(upstream.requests[1]?.body.encoding_format, 'float');
    const bytes = Buffer.from(encoded.data[0]?.embedding ?? '', 'base64');
    assert.deepEqual([bytes.readFloatLE(0), bytes.readFloatLE(4), bytes.readFloatLE(8)], [0.5, -0.25, 0.125]);
    const events = await gateway.usage.waitFor(2);
    assert.equal(events[0]?.inputTokens, 6);
  });
});
