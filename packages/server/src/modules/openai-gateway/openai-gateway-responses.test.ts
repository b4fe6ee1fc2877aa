// `POST /v1/responses` on the gateway module with the exact-match response cache on: a repeated
// request is answered from the cache (whole and streamed) as a fresh response, never as another
// API's answer, and each call leaves one usage event with `endpoint: responses`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request as httpRequest } from 'undici';
import { type FakeOpenAiServer, startFakeOpenAiServer } from './testing/fake-openai-server.ts';
import { type GatewayHarness, startGatewayHarness } from './testing/gateway-harness.ts';

describe('/v1/responses and the response cache', { timeout: 60_000 }, () => {
  let upstream: FakeOpenAiServer;
  let gateway: GatewayHarness;

  const call = async (body: Record<string, unknown>, path = '/v1/responses') => {
    const response = await httpRequest(`${gateway.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...gateway.headers },
      body: JSON.stringify(body),
    });
    return {
      status: response.statusCode,
      cache: response.headers['x-ensemble-cache-status'],
      requestId: response.headers['x-request-id'],
      text: await response.body.text(),
    };
  };

  before(async () => {
    upstream = await startFakeOpenAiServer();
    gateway = await startGatewayHarness('gateway_responses', { cache: { ttlMs: 60_000, maxBytes: 1024 * 1024 } });
    await gateway.register({ name: 'r/chat', baseUrl: upstream.baseUrl });
  });
  after(async () => {
    await gateway?.close();
    await upstream?.close();
  });

  it('answers a repeat from the cache as a new response, whole and streamed, apart from chat', async () => {
    const body = { model: 'r/chat', input: 'What is 2 + 2?', temperature: 0 };
    const first = await call(body);
    const second = await call(body);
    assert.equal(first.status, 200, first.text);
    assert.deepEqual([first.cache, second.cache], ['miss', 'hit']);
    assert.equal(upstream.requests.length, 1);
    const [a, b] = [JSON.parse(first.text), JSON.parse(second.text)];
    assert.notEqual(a.id, b.id, 'each call is its own response');
    assert.deepEqual(b.output[0].content[0].text, 'Hello from upstream.');
    assert.deepEqual(b.usage, a.usage);

    // The same question on chat is another endpoint: not answered with a Responses body, nor from it.
    const chat = await call(
      { model: 'r/chat', messages: [{ role: 'user', content: 'What is 2 + 2?' }], temperature: 0 },
      '/v1/chat/completions',
    );
    assert.equal(chat.cache, 'miss');
    assert.equal(JSON.parse(chat.text).object, 'chat.completion');

    const streamed = { ...body, stream: true };
    assert.equal((await call(streamed)).cache, 'miss');
    const replayed = await call(streamed);
    assert.equal(replayed.cache, 'hit');
    const types = replayed.text
      .split('\n\n')
      .filter((block) => block.startsWith('event: '))
      .map((block) => block.slice('event: '.length, block.indexOf('\n')));
    assert.equal(types[0], 'response.created');
    assert.equal(types.at(-1), 'response.completed');
    assert.ok(types.includes('response.output_text.delta'));
    assert.equal(upstream.requests.length, 3, 'the whole answer, the chat one and the first stream went upstream');

    const events = gateway.usage.events.filter((event) => event.endpoint === 'responses');
    assert.deepEqual(
      events.map((event) => [event.stream, event.cacheHit, event.inputTokens]),
      [
        [false, false, 12],
        [false, true, 12],
        [true, false, 12],
        [true, true, 12],
      ],
    );
    assert.ok(events.every((event) => event.requested === 'r/chat' && event.target === 'r/chat@1'));
  });
});
