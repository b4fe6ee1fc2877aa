// Every test here replays recorded Bedrock Runtime wire formats (__fixtures__, see its README) from a
// local HTTP server on 127.0.0.1, ConverseStream in its binary event-stream framing.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { AIMessageChunk } from '@langchain/core/messages';
import { concat } from '@langchain/core/utils/stream';
import type { CallSampling } from '../shared/call-sampling.ts';
import { drain, expectEnsembleError } from '../shared/testing/expect-ensemble-error.ts';
import { readChunks, readFixture } from '../shared/testing/fixtures.ts';
import { type ReplayServer, startReplayServer } from '../shared/testing/replay-server.ts';
import { chatOf, embeddingsOf, makeContext, makeSpec } from '../shared/testing/runtime-spec.ts';
import { bedrockEventStream, jsonBody } from '../shared/testing/wire-formats.ts';
import { bedrockProvider } from './bedrock-provider.ts';

const fixtures = join(import.meta.dirname, '__fixtures__');
const accessKeys = { accessKeyId: 'AKIAENSEMBLETEST0001', secretAccessKey: 'ensemble/test/secret/access/key/0001' };
const secret = JSON.stringify(accessKeys);
const modelId = 'anthropic.claude-3-haiku-20240307-v1:0';
/** What the gateway and /api/models/{name}/invoke pass per call. */
const perCall: CallSampling = { temperature: 0.7, maxTokens: 12, topP: 0.5, stop: ['STOP'] };
const awsError = (file: string, status: number, type: string) =>
  jsonBody(readFixture(fixtures, file), status, {
    'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
  });

// Twice: with the SDK's own HTTP handler, and through an outbound port (`RuntimeContext.fetch`, the
// SSRF guard's in the server) — the same wire formats, every request recorded going through the port.
for (const viaPort of [false, true]) {
  describe(`bedrock provider (replays recorded Bedrock wire formats)${viaPort ? ', through the fetch port' : ''}`, () => {
    let server: ReplayServer;
    const through: string[] = [];
    const port: typeof fetch = (input, init) => {
      through.push(input instanceof Request ? input.url : String(input));
      return fetch(input, init);
    };
    before(async () => {
      // The SDK's own handler speaks HTTP/2 to Bedrock; fetch speaks HTTP/1.1, which Bedrock serves too.
      server = await startReplayServer({ http2: !viaPort });
    });
    after(() => server.close());
    beforeEach(() => {
      server.requests.length = 0;
      through.length = 0;
    });
    afterEach(() => {
      // Every request the server saw went through the port (and only then).
      assert.equal(through.length, viaPort ? server.requests.length : 0);
    });

    const runtime = (
      kind: 'chat' | 'embedding',
      providerModelId: string,
      parameters: Record<string, unknown> = {},
      credential = secret,
    ) =>
      bedrockProvider.createRuntime(
        makeSpec({
          name: `bedrock/${providerModelId}`,
          providerModelId,
          kind,
          baseUrl: server.url,
          parameters,
          options: { region: 'eu-west-1', timeoutMs: 2_000 },
        }),
        { ...makeContext(credential), ...(viaPort ? { fetch: port } : {}) },
      );

    it('calls Converse signed with SigV4 for the region, with inferenceConfig; reads text and usage', async () => {
      server.reply(jsonBody(readFixture(fixtures, 'converse.json')));
      const chat = chatOf(await runtime('chat', modelId, { temperature: 0.2, maxTokens: 300, topP: 0.8 }));
      const message = await chat.invoke([
        ['system', 'Be brief.'],
        ['human', 'Who answers?'],
      ]);
      assert.equal(message.text, 'Bedrock answering through Converse for Ensemble.');
      assert.equal(message.usage_metadata?.input_tokens, 16);
      assert.equal(message.usage_metadata?.output_tokens, 11);
      const request = server.requests[0];
      assert.equal(request?.url, `/model/${encodeURIComponent(modelId)}/converse`);
      const authorization = String(request?.headers.authorization);
      assert.match(
        authorization,
        /^AWS4-HMAC-SHA256 Credential=AKIAENSEMBLETEST0001\/\d{8}\/eu-west-1\/bedrock\/aws4_request/,
      );
      assert.ok(!authorization.includes(accessKeys.secretAccessKey));
      const body = request?.json() as {
        messages: unknown;
        system: unknown;
        inferenceConfig: Record<string, unknown>;
      };
      assert.deepEqual(body.messages, [{ role: 'user', content: [{ text: 'Who answers?' }] }]);
      assert.deepEqual(body.system, [{ text: 'Be brief.' }]);
      assert.deepEqual(body.inferenceConfig, { maxTokens: 300, temperature: 0.2, topP: 0.8 });
    });

    it('honours per-call sampling over the registry defaults in inferenceConfig, invoked and streamed', async () => {
      const chat = chatOf(await runtime('chat', modelId, { temperature: 0.2, maxTokens: 300, topP: 0.8 }));
      server.reply(jsonBody(readFixture(fixtures, 'converse.json')));
      await chat.invoke('hi', perCall);
      server.reply(bedrockEventStream(readChunks(fixtures, 'converse-stream.chunks.txt')));
      await drain(await chat.stream('hi', perCall));
      server.reply(jsonBody(readFixture(fixtures, 'converse.json')));
      await chat.invoke('hi');
      const [invoked, streamed, plain] = server.requests.map((request) => request.json().inferenceConfig);
      const expected = { maxTokens: 12, temperature: 0.7, topP: 0.5, stopSequences: ['STOP'] };
      assert.deepEqual(invoked, expected);
      assert.deepEqual(streamed, expected);
      assert.equal(server.requests[1]?.url, `/model/${encodeURIComponent(modelId)}/converse-stream`);
      assert.deepEqual(plain, { maxTokens: 300, temperature: 0.2, topP: 0.8 });
    });

    it('streams ConverseStream binary event-stream frames as chunks in order', async () => {
      server.reply(bedrockEventStream(readChunks(fixtures, 'converse-stream.chunks.txt')));
      const chunks = await drain(await chatOf(await runtime('chat', modelId)).stream('Say hello'));
      assert.deepEqual(
        chunks.map((chunk) => chunk.text).filter((text) => text.length > 0),
        ['Hello', ' from', ' Bedrock', '.'],
      );
      const whole = chunks.reduce((sum, chunk) => concat(sum, chunk), new AIMessageChunk(''));
      assert.equal(whole.usage_metadata?.input_tokens, 12);
      assert.equal(whole.usage_metadata?.output_tokens, 6);
      assert.equal(server.requests[0]?.url, `/model/${encodeURIComponent(modelId)}/converse-stream`);
    });

    it('sends toolConfig and parses toolUse blocks', async () => {
      server.reply(jsonBody(readFixture(fixtures, 'converse-tool-use.json')));
      const chat = chatOf(await runtime('chat', modelId));
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
        message.tool_calls?.map(({ name, args, id }) => ({ name, args, id })),
        [{ name: 'get_weather', args: { city: 'Lisbon' }, id: 'tooluse_Qm3vXr8TzK2pWn5Lb7YcAd' }],
      );
      const body = server.requests[0]?.json() as { toolConfig: { tools: Array<{ toolSpec: { name: string } }> } };
      assert.equal(body.toolConfig.tools[0]?.toolSpec.name, 'get_weather');
    });

    it('embeds with Titan through InvokeModel, and accepts a Bedrock API key as a bearer token', async () => {
      server.reply(jsonBody(readFixture(fixtures, 'invoke-model-titan-embed.json')));
      const embeddings = embeddingsOf(
        await runtime(
          'embedding',
          'amazon.titan-embed-text-v2:0',
          { dimensions: 256, normalize: true },
          'ABSKbedrock-api-key-test-0001',
        ),
      );
      assert.deepEqual(await embeddings.embedQuery('hello'), [-0.0452, 0.0318, 0.0077, -0.0129]);
      const request = server.requests[0];
      assert.equal(request?.url, `/model/${encodeURIComponent('amazon.titan-embed-text-v2:0')}/invoke`);
      assert.equal(request?.headers.authorization, 'Bearer ABSKbedrock-api-key-test-0001');
      assert.deepEqual(request?.json(), { inputText: 'hello', dimensions: 256, normalize: true });
    });

    it('maps UnrecognizedClientException, ThrottlingException, InternalServerException, ValidationException and malformed bodies', async () => {
      const chat = chatOf(await runtime('chat', modelId));
      server.reply(awsError('error-403.json', 403, 'UnrecognizedClientException'));
      const auth = await expectEnsembleError(() => chat.invoke('hi'), 'upstream_auth_failed');
      assert.ok(!auth.message.includes(accessKeys.secretAccessKey));
      server.reply(awsError('error-429.json', 429, 'ThrottlingException'));
      await expectEnsembleError(() => chat.invoke('hi'), 'rate_limited');
      server.reply(awsError('error-500.json', 500, 'InternalServerException'));
      await expectEnsembleError(() => chat.invoke('hi'), 'upstream_error');
      server.reply(awsError('error-400.json', 400, 'ValidationException'));
      await expectEnsembleError(() => chat.invoke('hi'), 'upstream_bad_request');
      server.reply(jsonBody('{"output":{"message":'));
      await expectEnsembleError(() => chat.invoke('hi'), 'upstream_error');
      const embeddings = embeddingsOf(await runtime('embedding', 'amazon.titan-embed-text-v2:0'));
      server.reply(awsError('error-403.json', 403, 'AccessDeniedException'));
      await expectEnsembleError(() => embeddings.embedQuery('hi'), 'upstream_auth_failed');
    });

    it('maps an aborted call to timeout, checks health with a one-token Converse and disposes the client', async () => {
      const model = await runtime('chat', modelId);
      server.reply({ ...jsonBody(readFixture(fixtures, 'converse.json')), delayMs: 1_000 });
      await expectEnsembleError(() => chatOf(model).invoke('hi', { signal: AbortSignal.timeout(100) }), 'timeout');
      server.requests.length = 0;
      through.length = 0;
      server.reply(jsonBody(readFixture(fixtures, 'converse.json')));
      assert.equal((await model.health(AbortSignal.timeout(2_000))).ok, true);
      const probe = server.requests[0];
      assert.ok(probe, 'the health check called Converse');
      assert.deepEqual((probe.json() as { inferenceConfig: unknown }).inferenceConfig, { maxTokens: 1 });
      await model.dispose();
      await model.dispose();
    });

    it('needs a region and a well-formed access-key credential', async () => {
      const spec = makeSpec({ name: 'bedrock/x', providerModelId: 'x' });
      const region = await expectEnsembleError(
        () => bedrockProvider.createRuntime(spec, makeContext()),
        'validation_failed',
      );
      assert.equal(region.field, 'options.region');
      const credential = await expectEnsembleError(
        () =>
          bedrockProvider.createRuntime(
            { ...spec, options: { region: 'us-east-1' } },
            makeContext('{"accessKeyId":"x"}'),
          ),
        'validation_failed',
      );
      assert.equal(credential.field, 'credential');
      const kind = await expectEnsembleError(
        () =>
          bedrockProvider.createRuntime(
            { ...spec, kind: 'classifier', options: { region: 'us-east-1' } },
            makeContext(),
          ),
        'validation_failed',
      );
      assert.equal(kind.field, 'kind');
    });
  });
}
