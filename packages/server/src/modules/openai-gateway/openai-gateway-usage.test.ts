// One usage event per /v1 call, however the call ends; the project and key come from the principal.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { request as httpRequest } from 'undici';
import {
  answerCompletion,
  answerError,
  type FakeOpenAiServer,
  startFakeOpenAiServer,
  streamEvents,
} from './testing/fake-openai-server.ts';
import { type GatewayHarness, startGatewayHarness } from './testing/gateway-harness.ts';

const chat = (model: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], ...extra });

describe('usage events from /v1', { timeout: 60_000 }, () => {
  let upstream: FakeOpenAiServer;
  let gateway: GatewayHarness;

  let limitedKey: string;
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    httpRequest(`${gateway.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...gateway.headers, ...headers },
      body,
    });

  before(async () => {
    upstream = await startFakeOpenAiServer();
    gateway = await startGatewayHarness('gateway_usage');
    const limited = await gateway.keys.add('default', { name: 'chat-only', allowedModels: ['fake/chat'] });
    limitedKey = limited.secret;
    await gateway.register({
      name: 'fake/chat',
      baseUrl: upstream.baseUrl,
      pricing: { inputPerMillionTokens: 1, outputPerMillionTokens: 2 },
    });
    await gateway.register({ name: 'fake/embedder', kind: 'embedding', baseUrl: upstream.baseUrl });
  });
  after(async () => {
    await gateway?.close();
    await upstream?.close();
  });
  beforeEach(() => {
    gateway.usage.events.length = 0;
    upstream.handle(answerCompletion());
  });

  it('a completed chat call: tokens, cost from pricing, target, key and project', async () => {
    const response = await post('/v1/chat/completions', chat('fake/chat'));
    assert.equal(response.statusCode, 200);
    await response.body.json();
    const [event] = await gateway.usage.waitFor(1);
    assert.ok(event);
    assert.equal(event.requestId, response.headers['x-request-id']);
    assert.deepEqual(
      {
        projectId: event.projectId,
        keyId: event.keyId,
        endpoint: event.endpoint,
        requested: event.requested,
        route: event.route,
        target: event.target,
        provider: event.provider,
        inputTokens: event.inputTokens,
        outputTokens: event.outputTokens,
        stream: event.stream,
        status: event.status,
        errorCode: event.errorCode,
        cacheHit: event.cacheHit,
        attempts: event.attempts,
        timeToFirstTokenMs: event.timeToFirstTokenMs,
      },
      {
        projectId: 'default',
        keyId: gateway.adminKeyId,
        endpoint: 'chat',
        requested: 'fake/chat',
        route: null,
        target: 'fake/chat@1',
        provider: 'openai-compatible',
        inputTokens: 12,
        outputTokens: 5,
        stream: false,
        status: 200,
        errorCode: null,
        cacheHit: false,
        attempts: 1,
        timeToFirstTokenMs: null,
      },
    );
    assert.ok(Math.abs((event.costUsd ?? 0) - (12 * 1 + 5 * 2) / 1e6) < 1e-12);
    assert.ok(event.latencyMs > 0);
  });

  it('a stream: time to first token and the tokens of its usage chunk', async () => {
    const response = await post('/v1/chat/completions', chat('fake/chat', { stream: true }));
    const text = await response.body.text();
    assert.ok(text.endsWith('data: [DONE]\n\n'));
    const [event] = await gateway.usage.waitFor(1);
    assert.equal(event?.stream, true);
    assert.equal(event?.status, 200);
    assert.equal(event?.errorCode, null);
    assert.equal(event?.inputTokens, 12);
    assert.equal(event?.outputTokens, 5);
    assert.ok(event?.timeToFirstTokenMs !== null && (event?.timeToFirstTokenMs ?? -1) >= 0);
    assert.ok((event?.timeToFirstTokenMs ?? 0) <= (event?.latencyMs ?? 0));
  });

  it('embeddings are recorded too', async () => {
    const response = await post('/v1/embeddings', JSON.stringify({ model: 'fake/embedder', input: ['a', 'b'] }));
    assert.equal(response.statusCode, 200);
    await response.body.json();
    const [event] = await gateway.usage.waitFor(1);
    assert.equal(event?.endpoint, 'embeddings');
    assert.equal(event?.target, 'fake/embedder@1');
    assert.equal(event?.status, 200);
  });

  it('failures: unknown model 404, upstream 5xx 502, a model the key may not call 403', async () => {
    const missing = await post('/v1/chat/completions', chat('fake/missing'));
    assert.equal(missing.statusCode, 404);
    assert.equal(((await missing.body.json()) as { error: { code: string } }).error.code, 'model_not_found');

    upstream.handle(answerError(500));
    const broken = await post('/v1/chat/completions', chat('fake/chat'));
    assert.equal(broken.statusCode, 502);
    await broken.body.dump();

    const refused = await post('/v1/embeddings', JSON.stringify({ model: 'fake/embedder', input: 'a' }), {
      authorization: `Bearer ${limitedKey}`,
    });
    assert.equal(refused.statusCode, 403);
    const body = (await refused.body.json()) as { error: { type: string; param: string } };
    assert.equal(body.error.type, 'permission_error');
    assert.equal(body.error.param, 'model');

    const events = await gateway.usage.waitFor(3);
    assert.deepEqual(
      events.map((event) => [event.requested, event.status, event.errorCode, event.target]),
      [
        ['fake/missing', 404, 'not_found', null],
        ['fake/chat', 502, 'upstream_error', 'fake/chat@1'],
        ['fake/embedder', 403, 'forbidden', null],
      ],
    );
  });

  it('a stream that dies after its first chunk: status 200, mid_stream_error', async () => {
    upstream.handle((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      const [role, word] = streamEvents(['Hello', ' there'], false);
      response.write(`${role}${word}`);
      setTimeout(() => response.destroy(), 20);
    });
    const response = await post('/v1/chat/completions', chat('fake/chat', { stream: true }));
    const text = await response.body.text().catch(() => '');
    assert.ok(!text.includes('[DONE]'));
    const [event] = await gateway.usage.waitFor(1);
    assert.equal(event?.status, 200);
    assert.equal(event?.errorCode, 'mid_stream_error');
  });

  it('a client that goes away: recorded as client_disconnected (499 before any byte)', async () => {
    upstream.handle(() => {}); // never answers
    const controller = new AbortController();
    const aborted = httpRequest(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...gateway.headers },
      body: chat('fake/chat'),
      signal: controller.signal,
    }).catch(() => undefined);
    setTimeout(() => controller.abort(), 100);
    await aborted;
    const events = await gateway.usage.waitFor(1);
    assert.equal(events[0]?.status, 499);
    assert.equal(events[0]?.errorCode, 'client_disconnected');
  });
});
