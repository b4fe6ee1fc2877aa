// The exact-match response cache and the gateway's metrics on /metrics, through the real app.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { request as httpRequest } from 'undici';
import {
  answerCompletion,
  answerError,
  type FakeOpenAiServer,
  startFakeOpenAiServer,
} from './testing/fake-openai-server.ts';
import { type GatewayHarness, startGatewayHarness } from './testing/gateway-harness.ts';
import { MemoryRouteLookup } from './testing/memory-route-lookup.ts';

describe('the response cache and gateway metrics', { timeout: 60_000 }, () => {
  let upstream: FakeOpenAiServer;
  let broken: FakeOpenAiServer;
  let gateway: GatewayHarness;
  const routes = new MemoryRouteLookup();
  let prompt = 0;

  const call = async (
    body: Record<string, unknown>,
    headers: Record<string, string> = {},
    path = '/v1/chat/completions',
  ) => {
    const response = await httpRequest(`${gateway.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...gateway.headers, ...headers },
      body: JSON.stringify(body),
    });
    return {
      status: response.statusCode,
      cache: response.headers['x-ensemble-cache-status'],
      text: await response.body.text(),
    };
  };
  const chat = (extra: Record<string, unknown> = {}) => ({
    model: 'c/chat',
    messages: [{ role: 'user', content: `question ${prompt}` }],
    temperature: 0,
    ...extra,
  });

  before(async () => {
    upstream = await startFakeOpenAiServer();
    broken = await startFakeOpenAiServer(answerError(500));
    gateway = await startGatewayHarness('gateway_cache', { routes, cache: { ttlMs: 300, maxBytes: 1024 * 1024 } });
    await gateway.register({
      name: 'c/chat',
      baseUrl: upstream.baseUrl,
      pricing: { inputPerMillionTokens: 1_000, outputPerMillionTokens: 1_000 },
    });
    await gateway.register({ name: 'c/broken', baseUrl: broken.baseUrl });
    await gateway.register({ name: 'c/embedder', kind: 'embedding', baseUrl: upstream.baseUrl });
  });
  after(async () => {
    await gateway?.close();
    await upstream?.close();
    await broken?.close();
  });
  beforeEach(() => {
    prompt += 1;
    upstream.handle(answerCompletion());
    upstream.requests.length = 0;
    gateway.usage.events.length = 0;
  });

  it('answers a repeated request from the cache: one upstream call, cacheHit in the ledger, no cost', async () => {
    const first = await call(chat());
    const second = await call({ temperature: 0, messages: chat().messages, model: 'c/chat', user: 'someone-else' });
    assert.deepEqual([first.cache, second.cache], ['miss', 'hit']);
    assert.equal(second.text, first.text);
    assert.equal(upstream.requests.length, 1);
    const events = await gateway.usage.waitFor(2);
    assert.deepEqual(
      events.map((event) => [event.cacheHit, event.outputTokens, (event.costUsd ?? 0) > 0]),
      [
        [false, 5, true],
        [true, 5, false],
      ],
    );
  });

  it('x-ensemble-cache: no-store skips it; any other value is a 400 naming the header', async () => {
    await call(chat());
    const skipped = await call(chat(), { 'x-ensemble-cache': 'no-store' });
    assert.equal(skipped.cache, 'bypass');
    assert.equal(upstream.requests.length, 2);
    const wrong = await call(chat(), { 'x-ensemble-cache': 'please' });
    assert.equal(wrong.status, 400);
    assert.equal((JSON.parse(wrong.text) as { error: { param: string } }).error.param, 'headers.x-ensemble-cache');
  });

  it('an answer expires after its time to live; a failure is never kept', async () => {
    await call(chat());
    await new Promise((resolve) => setTimeout(resolve, 350));
    assert.equal((await call(chat())).cache, 'miss');

    upstream.handle(answerError(500));
    assert.equal((await call(chat({ seed: 1 }))).status, 502);
    upstream.handle(answerCompletion());
    const retried = await call(chat({ seed: 1 }));
    assert.deepEqual([retried.status, retried.cache], [200, 'miss']);
  });

  it('a stream is kept once complete and replayed as a stream, usage framed per client', async () => {
    const first = await call(chat({ stream: true }));
    const second = await call(chat({ stream: true }));
    const withUsage = await call(chat({ stream: true, stream_options: { include_usage: true } }));
    assert.deepEqual([first.cache, second.cache, withUsage.cache], ['miss', 'hit', 'hit']);
    assert.equal(second.text, first.text);
    assert.ok(!second.text.includes('usage') && second.text.endsWith('data: [DONE]\n\n'));
    assert.ok(withUsage.text.includes('"prompt_tokens":12'));
    assert.equal(upstream.requests.length, 1);
    const events = await gateway.usage.waitFor(3);
    assert.ok(events[1]?.timeToFirstTokenMs !== null && events[1]?.cacheHit === true);
  });

  it('embeddings are cached too', async () => {
    const body = { model: 'c/embedder', input: `text ${prompt}` };
    await call(body, {}, '/v1/embeddings');
    assert.equal((await call(body, {}, '/v1/embeddings')).cache, 'hit');
  });

  it('/metrics: requests, latency, first token, tokens, cost, upstream errors, breaker state, cache', async () => {
    await call(chat());
    await call(chat());
    await call(chat({ stream: true }));
    await call({ model: 'c/broken', messages: [{ role: 'user', content: 'hi' }] });
    routes.set('default', {
      name: 'c/guarded',
      policy: {
        strategy: 'fallback',
        circuitBreaker: { failureThreshold: 1, windowMs: 60_000, cooldownMs: 60_000 },
        targets: ['c/broken', 'c/chat'],
      },
    });
    await call({ model: 'c/guarded', messages: [{ role: 'user', content: `route ${prompt}` }] });
    const response = await httpRequest(`${gateway.url}/metrics`);
    const text = await response.body.text();
    const sample = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? Number.NaN);
    assert.ok(
      sample(
        /^ensemble_gateway_requests_total\{endpoint="chat",model="c\/chat",status="200",stream="false"\} (\d+)/m,
      ) >= 3,
    );
    assert.ok(
      sample(
        /^ensemble_gateway_requests_total\{endpoint="chat",model="c\/broken",status="502",stream="false"\} (\d+)/m,
      ) >= 1,
    );
    assert.ok(sample(/^ensemble_gateway_request_duration_seconds_count\{endpoint="chat",stream="false"\} (\d+)/m) >= 3);
    assert.ok(sample(/^ensemble_gateway_time_to_first_token_seconds_count\{model="c\/chat"\} (\d+)/m) >= 1);
    assert.ok(sample(/^ensemble_gateway_tokens_total\{model="c\/chat",direction="output"\} (\d+)/m) >= 5);
    assert.ok(sample(/^ensemble_gateway_cost_usd_total\{model="c\/chat"\} ([\d.e-]+)/m) > 0);
    // The plain call to c/broken and the route's attempt on it.
    assert.ok(sample(/^ensemble_gateway_upstream_errors_total\{model="c\/broken",code="upstream_error"\} (\d+)/m) >= 2);
    assert.equal(sample(/^ensemble_gateway_circuit_breaker_state\{project="default",target="c\/broken"\} (\d+)/m), 2);
    assert.ok(sample(/^ensemble_gateway_cache_requests_total\{result="hit"\} (\d+)/m) >= 1);
    assert.ok(sample(/^ensemble_gateway_cache_entries (\d+)/m) >= 1);
  });
});
