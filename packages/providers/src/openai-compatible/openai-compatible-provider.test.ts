// Every test here replays recorded OpenAI wire formats (../openai/__fixtures__ and __fixtures__) as an
// OpenAI-compatible server would send them, from a local HTTP server on 127.0.0.1.
// End to end against Ensemble's own /v1 serving a local model: packages/cli/src/openai-gateway/openai-sdk-local.test.ts.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { CallSampling } from '../shared/call-sampling.ts';
import { drain, expectEnsembleError } from '../shared/testing/expect-ensemble-error.ts';
import { readChunks, readFixture } from '../shared/testing/fixtures.ts';
import { type ReplayServer, startReplayServer } from '../shared/testing/replay-server.ts';
import { chatOf, embeddingsOf, makeContext, makeSpec } from '../shared/testing/runtime-spec.ts';
import { jsonBody, openAiStream } from '../shared/testing/wire-formats.ts';
import { openAiCompatibleProvider } from './openai-compatible-provider.ts';

const fixtures = join(import.meta.dirname, '__fixtures__');
const openAiFixtures = join(import.meta.dirname, '..', 'openai', '__fixtures__');
const secret = 'compat-test-secret-key-42';
/** What the gateway and /api/models/{name}/invoke pass per call. */
const perCall: CallSampling = { temperature: 0.7, maxTokens: 12, topP: 0.5, stop: ['STOP'] };

describe('openai-compatible provider (replays recorded OpenAI wire formats)', () => {
  let server: ReplayServer;
  before(async () => {
    server = await startReplayServer();
  });
  after(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
  });

  const spec = (kind: 'chat' | 'embedding' = 'chat', options: Record<string, unknown> = {}) =>
    makeSpec({
      name: 'vllm/qwen2.5-0.5b',
      providerModelId: 'Qwen/Qwen2.5-0.5B-Instruct',
      kind,
      baseUrl: `${server.url}/v1`,
      options,
    });

  it('calls the server by base URL without any Authorization header when there is no key', async () => {
    server.reply(jsonBody(readFixture(openAiFixtures, 'chat-completion.json')));
    const chat = chatOf(
      await openAiCompatibleProvider.createRuntime(
        spec('chat', { headers: { 'x-tenant': 'ensemble' } }),
        makeContext(),
      ),
    );
    const message = await chat.invoke('hi');
    assert.equal(message.text, 'Ensemble routes each request to the model that fits it best.');
    const request = server.requests[0];
    assert.equal(request?.url, '/v1/chat/completions');
    assert.equal(request?.headers.authorization, undefined);
    assert.equal(request?.headers['x-tenant'], 'ensemble');
    assert.equal(request?.json().model, 'Qwen/Qwen2.5-0.5B-Instruct');
  });

  it('sends the key as a bearer token when there is one, and streams chunks in order', async () => {
    server.reply(openAiStream(readChunks(openAiFixtures, 'chat-completion.chunks.txt')));
    const chat = chatOf(await openAiCompatibleProvider.createRuntime(spec(), makeContext(secret)));
    const chunks = await drain(await chat.stream('hi'));
    assert.deepEqual(
      chunks.map((chunk) => chunk.text).filter((text) => text.length > 0),
      ['Hello', ' from', ' Ensemble', '.'],
    );
    assert.equal(server.requests[0]?.headers.authorization, `Bearer ${secret}`);
  });

  it('honours per-call sampling over the registry defaults', async () => {
    server.reply(openAiStream(readChunks(openAiFixtures, 'chat-completion.chunks.txt')));
    const chat = chatOf(
      await openAiCompatibleProvider.createRuntime(
        { ...spec(), parameters: { temperature: 0.1, maxTokens: 500, topP: 1 } },
        makeContext(),
      ),
    );
    await drain(await chat.stream('hi', perCall));
    const body = server.requests[0]?.json();
    assert.deepEqual(
      { temperature: body?.temperature, max_tokens: body?.max_tokens, top_p: body?.top_p, stop: body?.stop },
      { temperature: 0.7, max_tokens: 12, top_p: 0.5, stop: ['STOP'] },
    );
  });

  it('asks for float embeddings when the server does not honour base64', async () => {
    server.reply(jsonBody(readFixture(openAiFixtures, 'embeddings-float.json')));
    const embeddings = embeddingsOf(
      await openAiCompatibleProvider.createRuntime(spec('embedding', { embeddingEncoding: 'float' }), makeContext()),
    );
    assert.deepEqual(await embeddings.embedQuery('hi'), [0.0125, -0.03125, 0.5, -0.75]);
    assert.equal(server.requests[0]?.json().encoding_format, 'float');
  });

  it('redacts a key the server echoes in its error', async () => {
    server.reply(jsonBody(readFixture(fixtures, 'error-401-echoes-key.json'), 401));
    const chat = chatOf(await openAiCompatibleProvider.createRuntime(spec(), makeContext(secret)));
    const error = await expectEnsembleError(() => chat.invoke('hi'), 'upstream_auth_failed');
    assert.ok(!error.message.includes(secret), error.message);
    assert.match(error.message, /\[redacted\]/);
  });

  it('reports an unreachable server as upstream_error and checks health with GET /models', async () => {
    const unreachable = await openAiCompatibleProvider.createRuntime(
      { ...spec(), baseUrl: 'http://127.0.0.1:9/v1' },
      makeContext(),
    );
    await expectEnsembleError(() => chatOf(unreachable).invoke('hi'), 'upstream_error');
    const health = await unreachable.health(AbortSignal.timeout(2_000));
    assert.equal(health.ok, false);
    server.reply(jsonBody(readFixture(fixtures, 'models.json')));
    const model = await openAiCompatibleProvider.createRuntime(spec(), makeContext());
    assert.equal((await model.health(AbortSignal.timeout(2_000))).ok, true);
    assert.equal(server.requests[0]?.url, '/v1/models');
  });

  it('needs an http(s) base URL', async () => {
    const error = await expectEnsembleError(
      () => openAiCompatibleProvider.createRuntime({ ...spec(), baseUrl: 'ftp://x' }, makeContext()),
      'validation_failed',
    );
    assert.equal(error.field, 'baseUrl');
  });
});
