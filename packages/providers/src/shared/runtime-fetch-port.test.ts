// The outbound port: a runtime given `RuntimeContext.fetch` (the server's SSRF guard) sends every call
// and health probe through it, for each SDK that takes one. Replays recorded wire formats from a local
// HTTP server; the port here is real fetch, wrapped to record what went through it.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { EnsembleError, type ModelProvider, type RuntimeContext } from '@ensemble/core';
import { anthropicProvider } from '../anthropic/anthropic-provider.ts';
import { azureOpenAiProvider } from '../azure-openai/azure-openai-provider.ts';
import { bedrockProvider } from '../bedrock/bedrock-provider.ts';
import { geminiProvider } from '../gemini/gemini-provider.ts';
import { openAiProvider } from '../openai/openai-provider.ts';
import { openAiCompatibleProvider } from '../openai-compatible/openai-compatible-provider.ts';
import { drain, expectEnsembleError } from './testing/expect-ensemble-error.ts';
import { readChunks, readFixture } from './testing/fixtures.ts';
import { type ReplayServer, startReplayServer } from './testing/replay-server.ts';
import { chatOf, embeddingsOf, makeContext, makeSpec } from './testing/runtime-spec.ts';
import { geminiStream, jsonBody } from './testing/wire-formats.ts';

const fixtures = (provider: string) => join(import.meta.dirname, '..', provider, '__fixtures__');

describe('RuntimeContext.fetch: the outbound port every hosted call goes through', () => {
  let server: ReplayServer;
  const through: string[] = [];
  const recording: typeof fetch = (input, init) => {
    through.push(new URL(input instanceof Request ? input.url : String(input)).pathname);
    return fetch(input, init);
  };
  before(async () => {
    server = await startReplayServer();
  });
  after(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
    through.length = 0;
  });

  const cases: Array<{
    provider: ModelProvider;
    secret: string | undefined;
    spec: Record<string, unknown>;
    answer: [string, string];
    probe: [string, string];
  }> = [
    {
      provider: openAiProvider,
      secret: 'sk-test',
      spec: {},
      answer: ['openai', 'chat-completion.json'],
      probe: ['openai', 'model.json'],
    },
    {
      // Keyless: the port is wrapped by the one that drops the Authorization header.
      provider: openAiCompatibleProvider,
      secret: undefined,
      spec: {},
      answer: ['openai', 'chat-completion.json'],
      probe: ['openai', 'model.json'],
    },
    {
      provider: azureOpenAiProvider,
      secret: 'azure-key',
      spec: { options: { deployment: 'd', apiVersion: '2024-10-21' } },
      answer: ['azure-openai', 'chat-completion.json'],
      probe: ['azure-openai', 'models.json'],
    },
    {
      provider: anthropicProvider,
      secret: 'sk-ant-test',
      spec: {},
      answer: ['anthropic', 'message.json'],
      probe: ['anthropic', 'model.json'],
    },
  ];

  for (const { provider, secret, spec, answer, probe } of cases) {
    it(`${provider.id}: the chat call and the health probe go through the port`, async () => {
      const runtime = await provider.createRuntime(
        makeSpec({ name: `${provider.id}/m`, providerModelId: 'm', baseUrl: server.url, ...spec }),
        { ...makeContext(secret), fetch: recording },
      );
      server.reply(jsonBody(readFixture(fixtures(answer[0]), answer[1])));
      await chatOf(runtime).invoke('hi');
      server.reply(jsonBody(readFixture(fixtures(probe[0]), probe[1])));
      assert.equal((await runtime.health(AbortSignal.timeout(5_000))).ok, true);
      assert.equal(server.requests.length, 2);
      assert.deepEqual(
        through,
        server.requests.map((request) => new URL(request.url, server.url).pathname),
      );
      if (secret === undefined) assert.equal(server.requests[0]?.headers.authorization, undefined);
    });
  }

  it('gemini: chat, streamed chat, embeddings and the health probe go through the port', async () => {
    // Google's SDK takes no fetch; its calls are scoped onto the port (gemini/fetch-scope.ts).
    const spec = { providerModelId: 'm', baseUrl: server.url };
    const context = { ...makeContext('g-key'), fetch: recording };
    const chat = await geminiProvider.createRuntime(makeSpec({ name: 'gemini/m', ...spec }), context);
    server.reply(jsonBody(readFixture(fixtures('gemini'), 'generate-content.json')));
    await chatOf(chat).invoke('hi');
    server.reply(geminiStream(readChunks(fixtures('gemini'), 'stream-generate-content.chunks.txt')));
    await drain(await chatOf(chat).stream('hi'));
    server.reply(jsonBody(readFixture(fixtures('gemini'), 'model.json')));
    assert.equal((await chat.health(AbortSignal.timeout(5_000))).ok, true);
    const embedding = await geminiProvider.createRuntime(
      makeSpec({ name: 'gemini/e', kind: 'embedding', ...spec }),
      context,
    );
    server.reply(
      jsonBody(readFixture(fixtures('gemini'), 'batch-embed-contents.json')),
      jsonBody(readFixture(fixtures('gemini'), 'embed-content.json')),
    );
    await embeddingsOf(embedding).embedDocuments(['first', 'second']);
    await embeddingsOf(embedding).embedQuery('first');
    assert.deepEqual(through, [
      '/v1beta/models/m:generateContent',
      '/v1beta/models/m:streamGenerateContent',
      '/v1beta/models/m',
      '/v1beta/models/m:batchEmbedContents',
      '/v1beta/models/m:embedContent',
    ]);
    assert.deepEqual(
      through,
      server.requests.map((request) => new URL(request.url, server.url).pathname),
    );
  });

  it('gemini: global fetch outside a Gemini call is untouched, and a refusing port stops the call', async () => {
    const chat = await geminiProvider.createRuntime(
      makeSpec({ name: 'gemini/m', providerModelId: 'm', baseUrl: server.url }),
      {
        ...makeContext('g-key'),
        fetch: async (input) => {
          through.push(String(input));
          throw new TypeError('fetch failed', {
            cause: new EnsembleError(
              'validation_failed',
              "url: '127.0.0.1' is an internal address Ensemble does not call",
              {
                details: { reason: 'internal_address' },
              },
            ),
          });
        },
      },
    );
    server.reply(jsonBody(readFixture(fixtures('gemini'), 'generate-content.json')));
    const error = await expectEnsembleError(() => chatOf(chat).invoke('hi'), 'upstream_error');
    assert.equal(error.retryable, false);
    assert.match(error.message, /'127\.0\.0\.1' is an internal address/);
    assert.equal(error.details?.reason, 'internal_address');
    assert.equal(server.requests.length, 0, 'the refused call never reached the server');
    assert.equal(through.length, 1);
    // The same process's own fetch calls still go out directly.
    const direct = await fetch(`${server.url}/v1beta/models/m:generateContent`, { method: 'POST', body: '{}' });
    assert.equal(direct.status, 200);
    await direct.arrayBuffer();
    assert.equal(server.requests.length, 1);
    assert.equal(through.length, 1);
  });

  it("maps the guard's refusal, however wrapped, to a clear non-retryable error and does not retry", async () => {
    // What undici's fetch throws when the guard's connector refuses: the refusal as the cause.
    const refusing: typeof fetch = async (input) => {
      through.push(String(input));
      throw new TypeError('fetch failed', {
        cause: new EnsembleError(
          'validation_failed',
          "url: 'rebound.example' is 10.0.0.7, an internal address Ensemble does not call (allow its range in OUTBOUND_ALLOWED_NETWORKS)",
          { details: { reason: 'internal_address' } },
        ),
      });
    };
    const context: RuntimeContext = { ...makeContext('sk-test'), fetch: refusing };
    const bedrock = { accessKeyId: 'AKIAENSEMBLETEST0001', secretAccessKey: 'ensemble/test/secret/access/key/0001' };
    for (const provider of [openAiProvider, anthropicProvider, bedrockProvider]) {
      through.length = 0;
      const isBedrock = provider === bedrockProvider;
      const runtime = await provider.createRuntime(
        makeSpec({
          name: `${provider.id}/m`,
          providerModelId: 'm',
          baseUrl: 'http://rebound.example/v1',
          ...(isBedrock ? { options: { region: 'eu-west-1' } } : {}),
        }),
        isBedrock ? { ...context, secret: JSON.stringify(bedrock) } : context,
      );
      const error = await expectEnsembleError(() => chatOf(runtime).invoke('hi'), 'upstream_error');
      assert.equal(error.retryable, false, provider.id);
      assert.match(error.message, /'rebound\.example' is 10\.0\.0\.7, an internal address/);
      assert.equal(error.details?.reason, 'internal_address');
      assert.equal(through.length, 1, `${provider.id} tried once`);
      const health = await runtime.health(AbortSignal.timeout(5_000));
      assert.equal(health.ok, false);
      assert.match(health.error ?? '', /an internal address/);
    }
    assert.equal(server.requests.length, 0);
  });
});
