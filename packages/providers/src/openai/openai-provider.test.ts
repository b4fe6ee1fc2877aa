// Every test here replays recorded OpenAI wire formats (__fixtures__, see its README) from a local
// HTTP server on 127.0.0.1; no request leaves the machine.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AIMessageChunk } from '@langchain/core/messages';
import { concat } from '@langchain/core/utils/stream';
import type { CallSampling } from '../shared/call-sampling.ts';
import { drain, expectEnsembleError } from '../shared/testing/expect-ensemble-error.ts';
import { readChunks, readFixture } from '../shared/testing/fixtures.ts';
import { type ReplayServer, startReplayServer } from '../shared/testing/replay-server.ts';
import { chatOf, embeddingsOf, makeContext, makeSpec } from '../shared/testing/runtime-spec.ts';
import { jsonBody, openAiStream } from '../shared/testing/wire-formats.ts';
import { openAiProvider } from './openai-provider.ts';

const fixtures = join(import.meta.dirname, '__fixtures__');
const secret = 'sk-test-ensemble-openai-secret';
/** What the gateway and /api/models/{name}/invoke pass per call. */
const perCall: CallSampling = { temperature: 0.7, maxTokens: 12, topP: 0.5, stop: ['STOP'] };
const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Current weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

describe('openai provider (replays recorded OpenAI wire formats)', () => {
  let server: ReplayServer;
  before(async () => {
    server = await startReplayServer();
  });
  after(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
  });

  const chatRuntime = (parameters: Record<string, unknown> = {}, options: Record<string, unknown> = {}) =>
    openAiProvider.createRuntime(
      makeSpec({
        name: 'openai/gpt-4o-mini',
        providerModelId: 'gpt-4o-mini',
        baseUrl: `${server.url}/v1`,
        parameters,
        options,
      }),
      makeContext(secret),
    );

  it('sends a chat completion with the key and mapped parameters, and reads text and usage', async () => {
    server.reply(jsonBody(readFixture(fixtures, 'chat-completion.json')));
    const runtime = await chatRuntime({
      temperature: 0.2,
      maxTokens: 64,
      topP: 0.9,
      stop: ['\n\n'],
      presencePenalty: 0.5,
    });
    const message = await chatOf(runtime).invoke('What does Ensemble do?');
    assert.equal(message?.text, 'Ensemble routes each request to the model that fits it best.');
    assert.deepEqual(
      {
        input: message?.usage_metadata?.input_tokens,
        output: message?.usage_metadata?.output_tokens,
        total: message?.usage_metadata?.total_tokens,
      },
      { input: 24, output: 13, total: 37 },
    );
    const [request] = server.requests;
    assert.equal(request?.method, 'POST');
    assert.equal(request?.url, '/v1/chat/completions');
    assert.equal(request?.headers.authorization, `Bearer ${secret}`);
    const body = request?.json();
    assert.equal(body?.model, 'gpt-4o-mini');
    assert.equal(body?.temperature, 0.2);
    assert.equal(body?.max_tokens ?? body?.max_completion_tokens, 64);
    assert.equal(body?.top_p, 0.9);
    assert.deepEqual(body?.stop, ['\n\n']);
    assert.equal(body?.presence_penalty, 0.5);
    assert.deepEqual(body?.messages, [{ role: 'user', content: 'What does Ensemble do?' }]);
    assert.ok(!body?.stream);
  });

  it('honours per-call sampling over the registry defaults: invoked, streamed and with tools bound', async () => {
    const runtime = await chatRuntime({ temperature: 0.2, maxTokens: 64, topP: 0.9, stop: ['\n\n'] });
    const chat = chatOf(runtime);
    server.reply(jsonBody(readFixture(fixtures, 'chat-completion.json')));
    await chat.invoke('hi', perCall);
    server.reply(openAiStream(readChunks(fixtures, 'chat-completion.chunks.txt')));
    await drain(await chat.stream('hi', perCall));
    server.reply(jsonBody(readFixture(fixtures, 'chat-tool-call.json')));
    await chat.bindTools?.([weatherTool]).invoke('Weather in Lisbon?', perCall);
    server.reply(jsonBody(readFixture(fixtures, 'chat-completion.json')));
    await chat.invoke('hi');
    const bodies = server.requests.map((request) => request.json());
    assert.equal(bodies.length, 4);
    for (const body of bodies.slice(0, 3)) {
      assert.deepEqual(
        { temperature: body.temperature, max_tokens: body.max_tokens, top_p: body.top_p, stop: body.stop },
        { temperature: 0.7, max_tokens: 12, top_p: 0.5, stop: ['STOP'] },
      );
    }
    assert.ok(bodies[2]?.tools, 'the tool call carried its tools');
    // The call's values stay with the call: the model's defaults are untouched.
    const last = bodies[3];
    assert.deepEqual(
      { temperature: last?.temperature, max_tokens: last?.max_tokens, top_p: last?.top_p, stop: last?.stop },
      { temperature: 0.2, max_tokens: 64, top_p: 0.9, stop: ['\n\n'] },
    );
  });

  it("sends a per-call token limit as max_completion_tokens to a reasoning model, as OpenAI's rules say", async () => {
    const runtime = await openAiProvider.createRuntime(
      makeSpec({ name: 'openai/o3-mini', providerModelId: 'o3-mini', baseUrl: `${server.url}/v1` }),
      makeContext(secret),
    );
    server.reply(jsonBody(readFixture(fixtures, 'chat-completion.json')));
    await chatOf(runtime).invoke('hi', { maxTokens: 200 } as CallSampling);
    const body = server.requests[0]?.json();
    assert.equal(body?.max_completion_tokens, 200);
    assert.equal(body?.max_tokens, undefined);
  });

  it('streams chunks in order and asks for usage in the last one (stream_options.include_usage)', async () => {
    server.reply(openAiStream(readChunks(fixtures, 'chat-completion.chunks.txt')));
    const runtime = await chatRuntime();
    const chunks = await drain(await chatOf(runtime).stream('Say hello'));
    const texts = chunks.map((chunk) => chunk.text).filter((text) => text.length > 0);
    assert.deepEqual(texts, ['Hello', ' from', ' Ensemble', '.']);
    const whole = chunks.reduce((sum, chunk) => concat(sum, chunk), new AIMessageChunk(''));
    assert.equal(whole.text, 'Hello from Ensemble.');
    assert.equal(whole.usage_metadata?.input_tokens, 11);
    assert.equal(whole.usage_metadata?.output_tokens, 4);
    const body = server.requests[0]?.json();
    assert.equal(body?.stream, true);
    assert.deepEqual(body?.stream_options, { include_usage: true });
  });

  it('sends tools and parses the tool call the model makes', async () => {
    server.reply(jsonBody(readFixture(fixtures, 'chat-tool-call.json')));
    const runtime = await chatRuntime();
    const model = chatOf(runtime).bindTools?.([weatherTool]);
    const message = await model?.invoke('Weather in Lisbon?');
    assert.deepEqual(
      message?.tool_calls?.map(({ name, args, id }) => ({ name, args, id })),
      [{ name: 'get_weather', args: { city: 'Lisbon', unit: 'celsius' }, id: 'call_Qd7pXo2vR9sLwE4mNc6bTy1A' }],
    );
    assert.equal(message?.usage_metadata?.total_tokens, 90);
    const tools = server.requests[0]?.json().tools as Array<{ function: { name: string } }>;
    assert.equal(tools[0]?.function.name, 'get_weather');
  });

  it('assembles a streamed tool call from its argument fragments', async () => {
    server.reply(openAiStream(readChunks(fixtures, 'chat-tool-call.chunks.txt')));
    const runtime = await chatRuntime();
    const model = chatOf(runtime).bindTools?.([weatherTool]);
    assert.ok(model);
    const chunks = await drain(await model.stream('Weather in Porto?'));
    assert.ok(chunks.length > 3);
    const whole = chunks.reduce((sum, chunk) => concat(sum, chunk), new AIMessageChunk(''));
    assert.deepEqual(
      whole.tool_calls?.map(({ name, args }) => ({ name, args })),
      [{ name: 'get_weather', args: { city: 'Porto' } }],
    );
  });

  it('embeds with encoding_format base64 and decodes the float32 vectors', async () => {
    server.reply(jsonBody(readFixture(fixtures, 'embeddings-base64.json')));
    const runtime = await openAiProvider.createRuntime(
      makeSpec({
        name: 'openai/text-embedding-3-small',
        providerModelId: 'text-embedding-3-small',
        kind: 'embedding',
        baseUrl: `${server.url}/v1`,
        parameters: { dimensions: 4 },
      }),
      makeContext(secret),
    );
    const vectors = await embeddingsOf(runtime).embedDocuments(['first text', 'second text']);
    assert.deepEqual(vectors, [
      [Math.fround(0.0125), -0.03125, 0.5, -0.75],
      [0.25, 0.125, -0.0625, 1],
    ]);
    const request = server.requests[0];
    assert.equal(request?.url, '/v1/embeddings');
    assert.equal(request?.headers.authorization, `Bearer ${secret}`);
    const body = request?.json();
    assert.equal(body?.encoding_format, 'base64');
    assert.deepEqual(body?.input, ['first text', 'second text']);
    assert.equal(body?.dimensions, 4);
    assert.equal(body?.model, 'text-embedding-3-small');
  });

  it('maps 401 to upstream_auth_failed without the key in the message', async () => {
    server.reply(jsonBody(readFixture(fixtures, 'error-401.json'), 401));
    const runtime = await chatRuntime();
    const error = await expectEnsembleError(() => chatOf(runtime).invoke('hi'), 'upstream_auth_failed');
    assert.equal(error.retryable, false);
    assert.match(error.message, /openai model 'openai\/gpt-4o-mini'.*401/);
    assert.ok(!error.message.includes(secret));
    assert.ok(!JSON.stringify(error.details).includes(secret));
  });

  it('guards a model with tools bound too (bindTools builds a new ChatOpenAI): errors mapped, timeout kept', async () => {
    server.reply(jsonBody(readFixture(fixtures, 'error-401.json'), 401));
    const bound = chatOf(await chatRuntime({}, { timeoutMs: 100 })).bindTools?.([weatherTool]);
    assert.ok(bound);
    await expectEnsembleError(() => bound.invoke('hi'), 'upstream_auth_failed');
    server.reply({ ...jsonBody(readFixture(fixtures, 'chat-tool-call.json')), delayMs: 1_000 });
    await expectEnsembleError(() => bound.invoke('hi'), 'timeout');
  });

  it('maps 429 to rate_limited with the Retry-After seconds', async () => {
    server.reply(jsonBody(readFixture(fixtures, 'error-429.json'), 429, { 'retry-after': '20' }));
    const runtime = await chatRuntime();
    const error = await expectEnsembleError(() => chatOf(runtime).invoke('hi'), 'rate_limited');
    assert.equal(error.retryAfterSeconds, 20);
    assert.equal(error.retryable, true);
  });

  it('maps 500 to a retryable upstream_error, also mid-stream', async () => {
    server.reply(
      jsonBody(readFixture(fixtures, 'error-500.json'), 500),
      jsonBody(readFixture(fixtures, 'error-500.json'), 500),
    );
    const runtime = await chatRuntime();
    const error = await expectEnsembleError(() => chatOf(runtime).invoke('hi'), 'upstream_error');
    assert.equal(error.retryable, true);
    assert.equal(error.details?.upstreamStatus, 500);
    await expectEnsembleError(async () => drain(await chatOf(runtime).stream('hi')), 'upstream_error');
  });

  it('maps a malformed body to upstream_error', async () => {
    server.reply(jsonBody('{"id":"chatcmpl-cut","object":"chat.comp'));
    const runtime = await chatRuntime();
    await expectEnsembleError(() => chatOf(runtime).invoke('hi'), 'upstream_error');
  });

  it('maps a call slower than options.timeoutMs to timeout, and an abort to a non-retryable timeout', async () => {
    server.reply({ ...jsonBody(readFixture(fixtures, 'chat-completion.json')), delayMs: 1_000 });
    const runtime = await chatRuntime({}, { timeoutMs: 100 });
    const timedOut = await expectEnsembleError(() => chatOf(runtime).invoke('hi'), 'timeout');
    assert.equal(timedOut.retryable, true);
    server.reply({ ...jsonBody(readFixture(fixtures, 'chat-completion.json')), delayMs: 1_000 });
    const patient = await chatRuntime();
    const aborted = await expectEnsembleError(
      () => chatOf(patient).invoke('hi', { signal: AbortSignal.timeout(100) }),
      'timeout',
    );
    assert.ok(aborted);
  });

  it('checks health with a cheap GET /models/{id} and reports failures without the key', async () => {
    server.reply(jsonBody(readFixture(fixtures, 'model.json')), jsonBody(readFixture(fixtures, 'error-401.json'), 401));
    const runtime = await chatRuntime();
    const healthy = await runtime.health(AbortSignal.timeout(2_000));
    assert.equal(healthy.ok, true);
    assert.equal(server.requests[0]?.method, 'GET');
    assert.equal(server.requests[0]?.url, '/v1/models/gpt-4o-mini');
    assert.equal(server.requests[0]?.headers.authorization, `Bearer ${secret}`);
    const unhealthy = await runtime.health(AbortSignal.timeout(2_000));
    assert.equal(unhealthy.ok, false);
    assert.match(unhealthy.error ?? '', /^upstream_auth_failed/);
    assert.ok(!(unhealthy.error ?? '').includes(secret));
    await runtime.dispose();
    await runtime.dispose();
  });

  it('health is bounded by its signal', async () => {
    server.reply({ ...jsonBody(readFixture(fixtures, 'model.json')), delayMs: 1_000 });
    const runtime = await chatRuntime();
    const started = performance.now();
    const health = await runtime.health(AbortSignal.timeout(100));
    assert.equal(health.ok, false);
    assert.match(health.error ?? '', /^timeout/);
    assert.ok(performance.now() - started < 900);
  });
});

describe('openai provider: spec validation', () => {
  const spec = makeSpec({ name: 'openai/gpt-4o-mini', providerModelId: 'gpt-4o-mini' });

  it('refuses a kind it cannot serve', async () => {
    const error = await expectEnsembleError(
      () => openAiProvider.createRuntime({ ...spec, kind: 'classifier' }, makeContext(secret)),
      'validation_failed',
    );
    assert.equal(error.field, 'kind');
  });

  it('names the faulty parameter or option', async () => {
    const wrongValue = await expectEnsembleError(
      () => openAiProvider.createRuntime({ ...spec, parameters: { temperature: 7 } }, makeContext(secret)),
      'validation_failed',
    );
    assert.equal(wrongValue.field, 'parameters.temperature');
    const unknown = await expectEnsembleError(
      () => openAiProvider.createRuntime({ ...spec, parameters: { temprature: 0.1 } }, makeContext(secret)),
      'validation_failed',
    );
    assert.equal(unknown.field, 'parameters.temprature');
    const option = await expectEnsembleError(
      () => openAiProvider.createRuntime({ ...spec, options: { timeoutMs: -1 } }, makeContext(secret)),
      'validation_failed',
    );
    assert.equal(option.field, 'options.timeoutMs');
  });

  it('needs a credential', async () => {
    const error = await expectEnsembleError(
      () => openAiProvider.createRuntime(spec, makeContext()),
      'validation_failed',
    );
    assert.equal(error.field, 'credential');
  });
});
