// Every test here replays recorded Anthropic Messages API wire formats (__fixtures__, see its
// README) from a local HTTP server on 127.0.0.1; no request leaves the machine.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AIMessageChunk } from '@langchain/core/messages';
import { concat } from '@langchain/core/utils/stream';
import type { CallSampling } from '../shared/call-sampling.ts';
import { drain, expectEnsembleError } from '../shared/testing/expect-ensemble-error.ts';
import { readChunks, readFixture } from '../shared/testing/fixtures.ts';
import { type ReplayServer, startReplayServer } from '../shared/testing/replay-server.ts';
import { chatOf, makeContext, makeSpec } from '../shared/testing/runtime-spec.ts';
import { anthropicStream, jsonBody } from '../shared/testing/wire-formats.ts';
import { anthropicProvider } from './anthropic-provider.ts';

const fixtures = join(import.meta.dirname, '__fixtures__');
const secret = 'sk-ant-test-ensemble-secret';
/** What the gateway and /api/models/{name}/invoke pass per call. */
const perCall: CallSampling = { temperature: 0.7, maxTokens: 12, topP: 0.5, stop: ['STOP'] };

describe('anthropic provider (replays recorded Anthropic wire formats)', () => {
  let server: ReplayServer;
  before(async () => {
    server = await startReplayServer();
  });
  after(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
  });

  const runtime = (parameters: Record<string, unknown> = {}, options: Record<string, unknown> = {}) =>
    anthropicProvider.createRuntime(
      makeSpec({
        name: 'anthropic/claude-3-5-haiku',
        providerModelId: 'claude-3-5-haiku-20241022',
        baseUrl: server.url,
        parameters,
        options,
      }),
      makeContext(secret),
    );

  it('sends POST /v1/messages with x-api-key, anthropic-version and mapped parameters; reads text and usage', async () => {
    server.reply(jsonBody(readFixture(fixtures, 'message.json')));
    const chat = chatOf(await runtime({ temperature: 0.3, maxTokens: 256, topK: 40, stop: ['END'] }));
    const message = await chat.invoke([
      ['system', 'Be brief.'],
      ['human', 'What is Ensemble?'],
    ]);
    assert.equal(message.text, 'Ensemble keeps every model behind one contract.');
    assert.equal(message.usage_metadata?.input_tokens, 19);
    assert.equal(message.usage_metadata?.output_tokens, 12);
    const request = server.requests[0];
    assert.equal(request?.url, '/v1/messages');
    assert.equal(request?.headers['x-api-key'], secret);
    assert.equal(request?.headers['anthropic-version'], '2023-06-01');
    assert.equal(request?.headers.authorization, undefined);
    const body = request?.json();
    assert.equal(body?.model, 'claude-3-5-haiku-20241022');
    assert.equal(body?.max_tokens, 256);
    assert.equal(body?.temperature, 0.3);
    assert.equal(body?.top_k, 40);
    assert.deepEqual(body?.stop_sequences, ['END']);
    assert.equal(body?.system, 'Be brief.');
    assert.deepEqual(body?.messages, [{ role: 'user', content: 'What is Ensemble?' }]);
  });

  it('honours per-call sampling over the registry defaults, invoked and streamed', async () => {
    const chat = chatOf(await runtime({ temperature: 0.3, maxTokens: 256, topP: 0.9, stop: ['END'] }));
    server.reply(jsonBody(readFixture(fixtures, 'message.json')));
    await chat.invoke('hi', perCall);
    server.reply(anthropicStream(readChunks(fixtures, 'message.chunks.txt')));
    await drain(await chat.stream('hi', perCall));
    server.reply(jsonBody(readFixture(fixtures, 'message.json')));
    await chat.invoke('hi');
    const [invoked, streamed, plain] = server.requests.map((request) => request.json());
    for (const body of [invoked, streamed]) {
      assert.deepEqual(
        {
          temperature: body?.temperature,
          max_tokens: body?.max_tokens,
          top_p: body?.top_p,
          stop: body?.stop_sequences,
        },
        { temperature: 0.7, max_tokens: 12, top_p: 0.5, stop: ['STOP'] },
      );
    }
    assert.equal(streamed?.stream, true);
    assert.deepEqual(
      {
        temperature: plain?.temperature,
        max_tokens: plain?.max_tokens,
        top_p: plain?.top_p,
        stop: plain?.stop_sequences,
      },
      { temperature: 0.3, max_tokens: 256, top_p: 0.9, stop: ['END'] },
    );
  });

  it('streams the SSE event sequence as chunks in order, with usage from message_start and message_delta', async () => {
    server.reply(anthropicStream(readChunks(fixtures, 'message.chunks.txt')));
    const chunks = await drain(await chatOf(await runtime()).stream('Say hello'));
    const texts = chunks.map((chunk) => chunk.text).filter((text) => text.length > 0);
    assert.deepEqual(texts, ['Hello', ' from', ' Claude', '.']);
    const whole = chunks.reduce((sum, chunk) => concat(sum, chunk), new AIMessageChunk(''));
    assert.equal(whole.text, 'Hello from Claude.');
    assert.equal(whole.usage_metadata?.input_tokens, 14);
    assert.equal(whole.usage_metadata?.output_tokens, 7 + 1);
    assert.equal(server.requests[0]?.json().stream, true);
  });

  it('sends tools and parses tool_use blocks', async () => {
    server.reply(jsonBody(readFixture(fixtures, 'tool-use.json')));
    const chat = chatOf(await runtime());
    const model = chat.bindTools?.([
      {
        name: 'get_weather',
        description: 'Current weather in a city',
        input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
    ]);
    assert.ok(model);
    const message = await model.invoke('Weather in Lisbon?');
    assert.deepEqual(
      message.tool_calls?.map(({ name, args, id }) => ({ name, args, id })),
      [{ name: 'get_weather', args: { city: 'Lisbon' }, id: 'toolu_01Fz8Kq3Wm6Rt2Yp9Lc5XvBn' }],
    );
    const tools = server.requests[0]?.json().tools as Array<{ name: string }>;
    assert.equal(tools[0]?.name, 'get_weather');
  });

  it('maps 401, 429 with retry-after, 529 overloaded, malformed body and timeout to catalogue codes', async () => {
    const chat = chatOf(await runtime({}, { timeoutMs: 150 }));
    server.reply(jsonBody(readFixture(fixtures, 'error-401.json'), 401));
    const auth = await expectEnsembleError(() => chat.invoke('hi'), 'upstream_auth_failed');
    assert.ok(!auth.message.includes(secret));
    server.reply(jsonBody(readFixture(fixtures, 'error-429.json'), 429, { 'retry-after': '12' }));
    const limited = await expectEnsembleError(() => chat.invoke('hi'), 'rate_limited');
    assert.equal(limited.retryAfterSeconds, 12);
    server.reply(jsonBody(readFixture(fixtures, 'error-529.json'), 529));
    const overloaded = await expectEnsembleError(() => chat.invoke('hi'), 'upstream_error');
    assert.equal(overloaded.retryable, true);
    server.reply(jsonBody('{"model":"claude-3-5-haiku-20241022","id":"msg_'));
    await expectEnsembleError(() => chat.invoke('hi'), 'upstream_error');
    server.reply({ ...jsonBody(readFixture(fixtures, 'message.json')), delayMs: 1_000 });
    await expectEnsembleError(() => chat.invoke('hi'), 'timeout');
  });

  it('checks health with GET /v1/models/{id}', async () => {
    server.reply(jsonBody(readFixture(fixtures, 'model.json')), jsonBody(readFixture(fixtures, 'error-401.json'), 401));
    const model = await runtime();
    assert.equal((await model.health(AbortSignal.timeout(2_000))).ok, true);
    assert.equal(server.requests[0]?.url, '/v1/models/claude-3-5-haiku-20241022');
    assert.equal(server.requests[0]?.headers['x-api-key'], secret);
    const failed = await model.health(AbortSignal.timeout(2_000));
    assert.equal(failed.ok, false);
    assert.match(failed.error ?? '', /^upstream_auth_failed/);
    await model.dispose();
  });

  it('refuses embeddings, an unknown parameter and a temperature above 1', async () => {
    const spec = makeSpec({ name: 'anthropic/x', providerModelId: 'x' });
    const kind = await expectEnsembleError(
      () => anthropicProvider.createRuntime({ ...spec, kind: 'embedding' }, makeContext(secret)),
      'validation_failed',
    );
    assert.equal(kind.field, 'kind');
    const hot = await expectEnsembleError(
      () => anthropicProvider.createRuntime({ ...spec, parameters: { temperature: 1.5 } }, makeContext(secret)),
      'validation_failed',
    );
    assert.equal(hot.field, 'parameters.temperature');
    const missing = await expectEnsembleError(
      () => anthropicProvider.createRuntime(spec, makeContext()),
      'validation_failed',
    );
    assert.equal(missing.field, 'credential');
  });
});
