// Routes (virtual models) through the gateway, against real fake upstreams on loopback: fallback on
// 5xx / timeout / 429, Retry-After, weighted split, conditions, circuit breakers, streams.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { RoutePolicyInput } from '@ensemble/core';
import { request as httpRequest } from 'undici';
import {
  answerCompletion,
  answerError,
  type FakeOpenAiServer,
  startFakeOpenAiServer,
  streamEvents,
} from './testing/fake-openai-server.ts';
import { type GatewayHarness, startGatewayHarness } from './testing/gateway-harness.ts';
import { MemoryRouteLookup } from './testing/memory-route-lookup.ts';

describe('routes through /v1', { timeout: 120_000 }, () => {
  let a: FakeOpenAiServer;
  let b: FakeOpenAiServer;
  let gateway: GatewayHarness;
  const routes = new MemoryRouteLookup();
  let batchKey: string;

  const route = (name: string, policy: RoutePolicyInput) => routes.set('default', { name, policy });
  const call = async (model: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) => {
    const response = await httpRequest(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...gateway.headers, ...headers },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], ...extra }),
    });
    const text = await response.body.text();
    return {
      status: response.statusCode,
      target: response.headers['x-ensemble-target'],
      headers: response.headers,
      text,
    };
  };

  before(async () => {
    a = await startFakeOpenAiServer(answerCompletion('from a'));
    b = await startFakeOpenAiServer(answerCompletion('from b'));
    gateway = await startGatewayHarness('gateway_routes', { routes });
    await gateway.register({ name: 'm/a', baseUrl: a.baseUrl });
    await gateway.register({ name: 'm/b', baseUrl: b.baseUrl });
    await gateway.register({ name: 'm/c', baseUrl: a.baseUrl, providerModelId: 'model-c' });
    batchKey = (await gateway.keys.add('default', { name: 'batch jobs', tags: ['batch'] })).secret;
  });
  after(async () => {
    await gateway?.close();
    await a?.close();
    await b?.close();
  });
  beforeEach(() => {
    a.handle(answerCompletion('from a'));
    b.handle(answerCompletion('from b'));
    a.requests.length = 0;
    b.requests.length = 0;
    gateway.usage.events.length = 0;
  });

  it('falls back on a 5xx; the answer says which target served it and the ledger which route', async () => {
    route('r/fallback', { strategy: 'fallback', targets: ['m/a', 'm/b'] });
    a.handle(answerError(500));
    const answer = await call('r/fallback');
    assert.equal(answer.status, 200);
    assert.equal(answer.target, 'm/b@1');
    assert.equal(answer.headers['x-ensemble-route'], 'r/fallback@1');
    assert.match(answer.text, /from b/);
    assert.equal(a.requests.length, 1);
    const [event] = await gateway.usage.waitFor(1);
    assert.deepEqual(
      [event?.requested, event?.route, event?.target, event?.attempts],
      ['r/fallback', 'r/fallback', 'm/b@1', 2],
    );
    // The ledger keeps each attempt: what it tried, how it ended, how long it took.
    assert.deepEqual(
      event?.trace?.map((attempt) => [attempt.target, attempt.path, attempt.outcome, attempt.status]),
      [
        ['m/a', 'policy.targets[0]', 'failure', 500],
        ['m/b', 'policy.targets[1]', 'success', null],
      ],
    );
    assert.ok(event?.trace?.every((attempt) => attempt.latencyMs >= 0 && attempt.retryDelayMs >= 0));
  });

  it('falls back when a target does not answer within the node timeout', async () => {
    route('r/timeout', { strategy: 'fallback', timeoutMs: 200, targets: ['m/a', 'm/b'] });
    a.handle(() => {});
    const started = performance.now();
    const answer = await call('r/timeout');
    assert.equal(answer.target, 'm/b@1');
    assert.ok(performance.now() - started < 2_000);
  });

  it('falls back on a 429, and a retry waits for the Retry-After it names', async () => {
    route('r/limited', { strategy: 'fallback', targets: ['m/a', 'm/b'] });
    a.handle(answerError(429, 'slow down', { 'retry-after': '1' }));
    assert.equal((await call('r/limited')).target, 'm/b@1');

    route('r/retry', { strategy: 'single', target: 'm/a', retry: { maxAttempts: 2, initialDelayMs: 0 } });
    let calls = 0;
    const limited = answerError(429, 'slow down', { 'retry-after': '1' });
    const fine = answerCompletion('from a');
    a.handle((request, response) => (++calls === 1 ? limited(request, response) : fine(request, response)));
    const started = performance.now();
    const answer = await call('r/retry');
    assert.equal(answer.status, 200);
    assert.ok(performance.now() - started >= 950, 'waited for Retry-After');
    assert.equal(calls, 2);
  });

  it('a route whose every target fails answers the last failure, 502, with the attempts counted', async () => {
    route('r/down', { strategy: 'fallback', targets: ['m/a', 'm/b'] });
    a.handle(answerError(500));
    b.handle(answerError(503));
    const answer = await call('r/down');
    assert.equal(answer.status, 502);
    assert.equal((JSON.parse(answer.text) as { error: { code: string } }).error.code, 'upstream_error');
    const [event] = await gateway.usage.waitFor(1);
    assert.deepEqual([event?.status, event?.route, event?.attempts], [502, 'r/down', 2]);
    assert.deepEqual(
      event?.trace?.map((attempt) => [attempt.target, attempt.outcome, attempt.status]),
      [
        ['m/a', 'failure', 500],
        ['m/b', 'failure', 503],
      ],
    );
  });

  it('an upstream refusal (400) is not fallen back from, and reaches the client as sent', async () => {
    route('r/refused', { strategy: 'fallback', targets: ['m/a', 'm/b'] });
    a.handle(answerError(400, 'messages too long'));
    const answer = await call('r/refused');
    assert.equal(answer.status, 400);
    assert.match(answer.text, /messages too long/);
    assert.equal(b.requests.length, 0);
  });

  it('splits traffic by weight, within tolerance over many requests', async () => {
    route('r/split', {
      strategy: 'loadbalance',
      targets: [
        { strategy: 'single', target: 'm/a', weight: 3 },
        { strategy: 'single', target: 'm/b', weight: 1 },
      ],
    });
    const total = 600;
    let toA = 0;
    for (let batch = 0; batch < total / 20; batch += 1) {
      const answers = await Promise.all(Array.from({ length: 20 }, () => call('r/split')));
      toA += answers.filter((answer) => answer.target === 'm/a@1').length;
    }
    // Binomial(600, 0.75): the standard deviation is ≈1.8 percentage points; allow more than 4 of them.
    assert.ok(Math.abs(toA / total - 0.75) < 0.08, `share to m/a: ${toA / total}`);
  });

  it('routes on metadata, headers, the key and params', async () => {
    route('r/conditional', {
      strategy: 'conditional',
      conditions: [
        { when: { 'metadata.plan': 'enterprise' }, use: 'm/a' },
        { when: { 'headers.x-region': { $regex: '^eu-' } }, use: 'm/c' },
        { when: { 'key.tags': { $in: ['batch'] } }, use: 'm/c' },
        { when: { 'params.max_tokens': { $gt: 1000 } }, use: 'm/a' },
      ],
      default: 'm/b',
    });
    assert.equal((await call('r/conditional', { metadata: { plan: 'enterprise' } })).target, 'm/a@1');
    assert.equal((await call('r/conditional', {}, { 'x-region': 'eu-west-1' })).target, 'm/c@1');
    assert.equal((await call('r/conditional', {}, { authorization: `Bearer ${batchKey}` })).target, 'm/c@1');
    assert.equal((await call('r/conditional', { max_tokens: 4000 })).target, 'm/a@1');
    assert.equal((await call('r/conditional', { metadata: { plan: 'free' } })).target, 'm/b@1');
    // The upstream got its own model id, and none of Ensemble's metadata.
    assert.equal(a.requests.at(-1)?.body.model, 'upstream-model');
    assert.equal(a.requests.at(-1)?.body.metadata, undefined);
  });

  it('a circuit breaker opens after repeated failures and closes after a good probe', async () => {
    route('r/breaker', {
      strategy: 'fallback',
      circuitBreaker: { failureThreshold: 2, windowMs: 60_000, cooldownMs: 300 },
      targets: ['m/a', 'm/b'],
    });
    a.handle(answerError(500));
    assert.equal((await call('r/breaker')).target, 'm/b@1');
    assert.equal((await call('r/breaker')).target, 'm/b@1');
    assert.equal(a.requests.length, 2);
    // Open: m/a is skipped without a request.
    assert.equal((await call('r/breaker')).target, 'm/b@1');
    assert.equal(a.requests.length, 2);
    // After the cool-down one probe goes through; it succeeds and closes the breaker.
    a.handle(answerCompletion('from a'));
    await new Promise((resolve) => setTimeout(resolve, 350));
    assert.equal((await call('r/breaker')).target, 'm/a@1');
    assert.equal((await call('r/breaker')).target, 'm/a@1');
    assert.equal(a.requests.length, 4);
  });

  it('a stream falls back before its first byte', async () => {
    route('r/stream', { strategy: 'fallback', targets: ['m/a', 'm/b'] });
    a.handle(answerError(502));
    const answer = await call('r/stream', { stream: true });
    assert.equal(answer.status, 200);
    assert.equal(answer.target, 'm/b@1');
    assert.ok(answer.text.includes('"content":" b"') && answer.text.endsWith('data: [DONE]\n\n'));
  });

  it('a stream that dies after its first chunk ends with an error chunk; no fallback then', async () => {
    route('r/mid-stream', { strategy: 'fallback', targets: ['m/a', 'm/b'] });
    a.handle((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(streamEvents(['Hello', ' there'], false).slice(0, 2).join(''));
      setTimeout(() => response.destroy(), 20);
    });
    const answer = await call('r/mid-stream', { stream: true });
    assert.equal(answer.status, 200);
    assert.ok(answer.text.includes('"content":"Hello"'));
    assert.ok(!answer.text.includes('[DONE]'));
    assert.match(answer.text.trim().split('\n\n').at(-1) ?? '', /^data: \{"error":/);
    assert.equal(b.requests.length, 0);
    const [event] = await gateway.usage.waitFor(1);
    assert.deepEqual([event?.errorCode, event?.route], ['mid_stream_error', 'r/mid-stream']);
  });

  it('routes are listed and retrieved as models, told apart by owned_by', async () => {
    route('r/listed', 'm/a');
    const list = await httpRequest(`${gateway.url}/v1/models`, { headers: gateway.headers });
    const { data } = (await list.body.json()) as { data: Array<{ id: string; owned_by: string }> };
    assert.deepEqual(
      data.find((item) => item.id === 'r/listed'),
      { id: 'r/listed', object: 'model', created: 0, owned_by: 'ensemble-route' },
    );
    assert.equal(data.find((item) => item.id === 'm/a')?.owned_by, 'openai-compatible');
    const one = await httpRequest(`${gateway.url}/v1/models/r/listed`, { headers: gateway.headers });
    assert.equal(((await one.body.json()) as { owned_by: string }).owned_by, 'ensemble-route');
  });
});
