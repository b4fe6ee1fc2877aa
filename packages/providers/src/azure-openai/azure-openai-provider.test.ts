// Every test here replays recorded Azure OpenAI wire formats (__fixtures__ here and OpenAI's chunks
// and embeddings in ../openai/__fixtures__) from a local HTTP server on 127.0.0.1.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { CallSampling } from '../shared/call-sampling.ts';
import { drain, expectEnsembleError } from '../shared/testing/expect-ensemble-error.ts';
import { readChunks, readFixture } from '../shared/testing/fixtures.ts';
import { type ReplayServer, startReplayServer } from '../shared/testing/replay-server.ts';
import { chatOf, embeddingsOf, makeContext, makeSpec } from '../shared/testing/runtime-spec.ts';
import { jsonBody, openAiStream } from '../shared/testing/wire-formats.ts';
import { azureOpenAiProvider } from './azure-openai-provider.ts';

const fixtures = join(import.meta.dirname, '__fixtures__');
const openAiFixtures = join(import.meta.dirname, '..', 'openai', '__fixtures__');
const secret = 'azure-test-ensemble-key-0123456789';
const apiVersion = '2024-10-21';
/** What the gateway and /api/models/{name}/invoke pass per call. */
const perCall: CallSampling = { temperature: 0.7, maxTokens: 12, topP: 0.5, stop: ['STOP'] };

describe('azure-openai provider (replays recorded Azure OpenAI wire formats)', () => {
  let server: ReplayServer;
  before(async () => {
    server = await startReplayServer();
  });
  after(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
  });

  const runtime = (kind: 'chat' | 'embedding', deployment: string, parameters: Record<string, unknown> = {}) =>
    azureOpenAiProvider.createRuntime(
      makeSpec({
        name: `azure/${deployment}`,
        providerModelId: 'gpt-4o-mini',
        kind,
        parameters,
        options: { endpoint: server.url, deployment, apiVersion },
      }),
      makeContext(secret),
    );

  it('calls the deployment URL with api-version and the api-key header; reads text and usage', async () => {
    server.reply(jsonBody(readFixture(fixtures, 'chat-completion.json')));
    const chat = chatOf(await runtime('chat', 'prod-mini', { temperature: 0.1, maxTokens: 50 }));
    const message = await chat.invoke('Who answers?');
    assert.equal(message.text, 'Azure deployment answering for Ensemble.');
    assert.equal(message.usage_metadata?.total_tokens, 25);
    const request = server.requests[0];
    assert.equal(request?.url, `/openai/deployments/prod-mini/chat/completions?api-version=${apiVersion}`);
    assert.equal(request?.headers['api-key'], secret);
    assert.ok(!String(request?.headers.authorization ?? '').includes(secret));
    const body = request?.json();
    assert.equal(body?.temperature, 0.1);
    assert.equal(body?.max_tokens ?? body?.max_completion_tokens, 50);
  });

  it('honours per-call sampling over the registry defaults: invoked, streamed and with tools bound', async () => {
    const chat = chatOf(await runtime('chat', 'prod-mini', { temperature: 0.1, maxTokens: 50, topP: 1 }));
    server.reply(jsonBody(readFixture(fixtures, 'chat-completion.json')));
    await chat.invoke('hi', perCall);
    server.reply(openAiStream(readChunks(openAiFixtures, 'chat-completion.chunks.txt')));
    await drain(await chat.stream('hi', perCall));
    server.reply(jsonBody(readFixture(openAiFixtures, 'chat-tool-call.json')));
    const tool = { type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object' } } };
    await chat.bindTools?.([tool]).invoke('Weather in Lisbon?', perCall);
    assert.equal(server.requests.length, 3);
    for (const request of server.requests) {
      assert.match(request.url, /^\/openai\/deployments\/prod-mini\/chat\/completions\?api-version=/);
      const body = request.json();
      assert.deepEqual(
        { temperature: body.temperature, max_tokens: body.max_tokens, top_p: body.top_p, stop: body.stop },
        { temperature: 0.7, max_tokens: 12, top_p: 0.5, stop: ['STOP'] },
      );
    }
  });

  it('streams chunks in order', async () => {
    server.reply(openAiStream(readChunks(openAiFixtures, 'chat-completion.chunks.txt')));
    const chunks = await drain(await chatOf(await runtime('chat', 'prod-mini')).stream('hi'));
    assert.deepEqual(
      chunks.map((chunk) => chunk.text).filter((text) => text.length > 0),
      ['Hello', ' from', ' Ensemble', '.'],
    );
    assert.deepEqual(server.requests[0]?.json().stream_options, { include_usage: true });
  });

  it('embeds through the embeddings deployment and decodes base64', async () => {
    server.reply(jsonBody(readFixture(openAiFixtures, 'embeddings-base64.json')));
    const embeddings = embeddingsOf(await runtime('embedding', 'embed-small', { batchSize: 16 }));
    const vectors = await embeddings.embedDocuments(['a', 'b']);
    assert.deepEqual(vectors[1], [0.25, 0.125, -0.0625, 1]);
    assert.equal(server.requests[0]?.url, `/openai/deployments/embed-small/embeddings?api-version=${apiVersion}`);
    assert.equal(server.requests[0]?.headers['api-key'], secret);
  });

  it("maps Azure's 401 and 429 (retry-after) and checks health with GET /openai/models", async () => {
    const model = await runtime('chat', 'prod-mini');
    server.reply(jsonBody(readFixture(fixtures, 'error-401.json'), 401));
    const auth = await expectEnsembleError(() => chatOf(model).invoke('hi'), 'upstream_auth_failed');
    assert.ok(!auth.message.includes(secret));
    server.reply(jsonBody(readFixture(fixtures, 'error-429.json'), 429, { 'retry-after': '6' }));
    const limited = await expectEnsembleError(() => chatOf(model).invoke('hi'), 'rate_limited');
    assert.equal(limited.retryAfterSeconds, 6);
    server.requests.length = 0;
    server.reply(jsonBody(readFixture(fixtures, 'models.json')));
    assert.equal((await model.health(AbortSignal.timeout(2_000))).ok, true);
    assert.equal(server.requests[0]?.url, `/openai/models?api-version=${apiVersion}`);
    assert.equal(server.requests[0]?.headers['api-key'], secret);
  });

  it('needs an endpoint and an API version, naming the field', async () => {
    const spec = makeSpec({ name: 'azure/x', providerModelId: 'x' });
    const version = await expectEnsembleError(
      () =>
        azureOpenAiProvider.createRuntime(
          { ...spec, options: { endpoint: 'https://r.openai.azure.com' } },
          makeContext(secret),
        ),
      'validation_failed',
    );
    assert.equal(version.field, 'options.apiVersion');
    const endpoint = await expectEnsembleError(
      () => azureOpenAiProvider.createRuntime({ ...spec, options: { apiVersion } }, makeContext(secret)),
      'validation_failed',
    );
    assert.equal(endpoint.field, 'options.endpoint');
  });
});
