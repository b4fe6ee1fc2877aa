// Every test here replays recorded Gemini API wire formats (__fixtures__, see its README) from a
// local HTTP server on 127.0.0.1; no request leaves the machine.
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
import { geminiStream, jsonBody } from '../shared/testing/wire-formats.ts';
import { geminiProvider } from './gemini-provider.ts';

const fixtures = join(import.meta.dirname, '__fixtures__');
const secret = 'AIzaSy-test-ensemble-gemini-secret';
/** What the gateway and /api/models/{name}/invoke pass per call. */
const perCall: CallSampling = { temperature: 0.7, maxTokens: 12, topP: 0.5, stop: ['STOP'] };

describe('gemini provider (replays recorded Gemini wire formats)', () => {
  let server: ReplayServer;
  before(async () => {
    server = await startReplayServer();
  });
  after(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
  });

  const runtime = (kind: 'chat' | 'embedding', providerModelId: string, parameters: Record<string, unknown> = {}) =>
    geminiProvider.createRuntime(
      makeSpec({ name: `gemini/${providerModelId}`, providerModelId, kind, baseUrl: server.url, parameters }),
      makeContext(secret),
    );

  it('calls generateContent with x-goog-api-key and generationConfig; reads text and usage', async () => {
    server.reply(jsonBody(readFixture(fixtures, 'generate-content.json')));
    const chat = chatOf(
      await runtime('chat', 'gemini-2.0-flash', { temperature: 0.4, maxTokens: 128, topK: 20, stop: ['##'] }),
    );
    const message = await chat.invoke('What is Ensemble?');
    assert.equal(message.text, 'Ensemble serves many models through one API.');
    assert.equal(message.usage_metadata?.input_tokens, 9);
    assert.equal(message.usage_metadata?.output_tokens, 10);
    const request = server.requests[0];
    assert.equal(request?.url, '/v1beta/models/gemini-2.0-flash:generateContent');
    assert.equal(request?.headers['x-goog-api-key'], secret);
    assert.ok(!request?.url.includes(secret));
    const body = request?.json() as { contents: unknown; generationConfig: Record<string, unknown> };
    assert.deepEqual(body.contents, [{ role: 'user', parts: [{ text: 'What is Ensemble?' }] }]);
    assert.equal(body.generationConfig.temperature, 0.4);
    assert.equal(body.generationConfig.maxOutputTokens, 128);
    assert.equal(body.generationConfig.topK, 20);
    assert.deepEqual(body.generationConfig.stopSequences, ['##']);
  });

  it('honours per-call sampling over the registry defaults in generationConfig, invoked and streamed', async () => {
    const chat = chatOf(
      await runtime('chat', 'gemini-2.0-flash', { temperature: 0.4, maxTokens: 128, topP: 0.9, stop: ['##'] }),
    );
    server.reply(jsonBody(readFixture(fixtures, 'generate-content.json')));
    await chat.invoke('hi', perCall);
    server.reply(geminiStream(readChunks(fixtures, 'stream-generate-content.chunks.txt')));
    await drain(await chat.stream('hi', perCall));
    server.reply(jsonBody(readFixture(fixtures, 'generate-content.json')));
    await chat.invoke('hi');
    const configs = server.requests.map((request) => {
      const { temperature, maxOutputTokens, topP, stopSequences } = (
        request.json() as { generationConfig: Record<string, unknown> }
      ).generationConfig;
      return { temperature, maxOutputTokens, topP, stopSequences };
    });
    const expected = { temperature: 0.7, maxOutputTokens: 12, topP: 0.5, stopSequences: ['STOP'] };
    assert.deepEqual(configs, [
      expected,
      expected,
      { temperature: 0.4, maxOutputTokens: 128, topP: 0.9, stopSequences: ['##'] },
    ]);
    assert.match(server.requests[1]?.url ?? '', /:streamGenerateContent\?alt=sse$/);
  });

  it('streams streamGenerateContent?alt=sse as chunks in order', async () => {
    server.reply(geminiStream(readChunks(fixtures, 'stream-generate-content.chunks.txt')));
    const chunks = await drain(await chatOf(await runtime('chat', 'gemini-2.0-flash')).stream('Say hello'));
    const texts = chunks.map((chunk) => chunk.text).filter((text) => text.length > 0);
    assert.deepEqual(texts, ['Hello', ' from Gemini', ', streamed.']);
    const whole = chunks.reduce((sum, chunk) => concat(sum, chunk), new AIMessageChunk(''));
    assert.equal(whole.text, 'Hello from Gemini, streamed.');
    assert.ok((whole.usage_metadata?.output_tokens ?? 0) > 0);
    assert.equal(server.requests[0]?.url, '/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse');
  });

  it('sends functionDeclarations and parses functionCall parts', async () => {
    server.reply(jsonBody(readFixture(fixtures, 'function-call.json')));
    const chat = chatOf(await runtime('chat', 'gemini-2.0-flash'));
    const model = chat.bindTools?.([
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Current weather in a city',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      },
    ]);
    assert.ok(model);
    const message = await model.invoke('Weather in Lisbon?');
    assert.deepEqual(
      message.tool_calls?.map(({ name, args }) => ({ name, args })),
      [{ name: 'get_weather', args: { city: 'Lisbon' } }],
    );
    const body = server.requests[0]?.json() as { tools: Array<{ functionDeclarations: Array<{ name: string }> }> };
    assert.equal(body.tools[0]?.functionDeclarations[0]?.name, 'get_weather');
  });

  it('embeds documents with batchEmbedContents and a query with embedContent', async () => {
    server.reply(
      jsonBody(readFixture(fixtures, 'batch-embed-contents.json')),
      jsonBody(readFixture(fixtures, 'embed-content.json')),
    );
    const embeddings = embeddingsOf(
      await runtime('embedding', 'text-embedding-004', { taskType: 'RETRIEVAL_DOCUMENT' }),
    );
    const vectors = await embeddings.embedDocuments(['first', 'second']);
    assert.deepEqual(vectors, [
      [0.013168523, -0.008711934, -0.046782676, 0.00069968984],
      [-0.021257617, 0.0046081767, -0.033641473, 0.011863911],
    ]);
    const batch = server.requests[0];
    assert.equal(batch?.url, '/v1beta/models/text-embedding-004:batchEmbedContents');
    assert.equal(batch?.headers['x-goog-api-key'], secret);
    const body = batch?.json() as {
      requests: Array<{ model: string; content: { parts: Array<{ text: string }> }; taskType: string }>;
    };
    assert.deepEqual(
      body.requests.map((request) => request.content.parts[0]?.text),
      ['first', 'second'],
    );
    assert.equal(body.requests[0]?.taskType, 'RETRIEVAL_DOCUMENT');
    assert.deepEqual(await embeddings.embedQuery('first'), [0.013168523, -0.008711934, -0.046782676, 0.00069968984]);
    assert.equal(server.requests[1]?.url, '/v1beta/models/text-embedding-004:embedContent');
  });

  it('maps a bad key (400 API_KEY_INVALID), 403, 429 with RetryInfo, 500 and malformed bodies', async () => {
    const chat = chatOf(await runtime('chat', 'gemini-2.0-flash'));
    server.reply(jsonBody(readFixture(fixtures, 'error-400-api-key.json'), 400));
    const badKey = await expectEnsembleError(() => chat.invoke('hi'), 'upstream_auth_failed');
    assert.ok(!badKey.message.includes(secret));
    server.reply(jsonBody(readFixture(fixtures, 'error-403.json'), 403));
    await expectEnsembleError(() => chat.invoke('hi'), 'upstream_auth_failed');
    server.reply(jsonBody(readFixture(fixtures, 'error-429.json'), 429));
    const limited = await expectEnsembleError(() => chat.invoke('hi'), 'rate_limited');
    assert.equal(limited.retryAfterSeconds, 27);
    server.reply(jsonBody(readFixture(fixtures, 'error-500.json'), 500));
    await expectEnsembleError(() => chat.invoke('hi'), 'upstream_error');
    server.reply(jsonBody('{"candidates":[{"content":'));
    await expectEnsembleError(() => chat.invoke('hi'), 'upstream_error');
    server.reply(geminiStream(['{"candidates":[{"content":{"parts":[{"text":"Hel']));
    await expectEnsembleError(async () => drain(await chat.stream('hi')), 'upstream_error');
  });

  it('maps an aborted call to timeout and checks health with GET /v1beta/models/{id}', async () => {
    const model = await runtime('chat', 'gemini-2.0-flash');
    server.reply({ ...jsonBody(readFixture(fixtures, 'generate-content.json')), delayMs: 1_000 });
    await expectEnsembleError(() => chatOf(model).invoke('hi', { signal: AbortSignal.timeout(100) }), 'timeout');
    server.requests.length = 0;
    server.reply(jsonBody(readFixture(fixtures, 'model.json')));
    assert.equal((await model.health(AbortSignal.timeout(2_000))).ok, true);
    assert.equal(server.requests[0]?.url, '/v1beta/models/gemini-2.0-flash');
    assert.equal(server.requests[0]?.headers['x-goog-api-key'], secret);
    await model.dispose();
  });

  it('validates kind, parameters and options', async () => {
    const spec = makeSpec({ name: 'gemini/x', providerModelId: 'x' });
    const kind = await expectEnsembleError(
      () => geminiProvider.createRuntime({ ...spec, kind: 'classifier' }, makeContext(secret)),
      'validation_failed',
    );
    assert.equal(kind.field, 'kind');
    const task = await expectEnsembleError(
      () =>
        geminiProvider.createRuntime(
          { ...spec, kind: 'embedding', parameters: { taskType: 'NOPE' } },
          makeContext(secret),
        ),
      'validation_failed',
    );
    assert.equal(task.field, 'parameters.taskType');
    const version = await expectEnsembleError(
      () => geminiProvider.createRuntime({ ...spec, options: { apiVersion: 'v0' } }, makeContext(secret)),
      'validation_failed',
    );
    assert.equal(version.field, 'options.apiVersion');
  });
});
