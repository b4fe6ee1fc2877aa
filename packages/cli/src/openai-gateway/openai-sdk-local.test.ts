// The /v1 gateway through the official openai SDK against the built-in local models, and the
// `openai-compatible` provider end to end against Ensemble's own /v1 (an Ensemble model whose
// upstream is this Ensemble serving the local chat and embedding models).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  configSchema,
  ModelRuntimeManager,
  newApiKeySchema,
  newCredentialSchema,
  registerModelSchema,
  silentLogger,
} from '@ensemble/core';
import {
  buildApp,
  createLogger,
  type EnsembleApp,
  modelRuntimeModule,
  modelsModule,
  openAiGatewayModule,
} from '@ensemble/server';
import OpenAI from 'openai';
import { modelProviders } from '../model-runtime/model-providers.ts';
import { registerBuiltInModels } from '../registry/register-built-in-models.ts';
import { systemClock } from '../runtime/system-clock.ts';
import { builtInArtifacts } from '../testing/built-in-artifacts.ts';
import { readSse } from '../testing/read-sse.ts';
import { openTestRegistry, type TestRegistry } from '../testing/test-registry.ts';

const chatModel = 'local/smollm2-135m-instruct';
const embeddingModel = 'local/all-minilm-l6-v2';

describe('OpenAI SDK against /v1 with the built-in local models', { timeout: 600_000 }, () => {
  let registry: TestRegistry;
  let manager: ModelRuntimeManager;
  let app: EnsembleApp;
  let client: OpenAI;
  let url: string;

  before(async () => {
    registry = await openTestRegistry('gateway_local');
    manager = new ModelRuntimeManager({
      providers: modelProviders(await builtInArtifacts()),
      models: registry.models,
      revealCredential: (projectId, name) => registry.credentials.reveal(projectId, name),
      clock: systemClock,
      logger: silentLogger,
      healthIntervalMs: 0,
    });
    await registerBuiltInModels({ models: registry.models, logger: silentLogger });
    app = await buildApp({
      config: configSchema.parse({ log: { level: 'silent' } }),
      logger: createLogger({ level: 'silent' }),
      authenticator: registry.keys.store,
      checks: [],
      modules: [
        modelsModule(registry.models),
        modelRuntimeModule(manager),
        openAiGatewayModule({ runtimes: manager, models: registry.models }),
      ],
    });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    client = new OpenAI({ baseURL: `${url}/v1`, apiKey: registry.keys.adminKey, maxRetries: 0 });
  });
  after(async () => {
    await app?.close();
    await manager?.close();
    await registry?.close();
  });

  it('answers a short chat completion, honouring max_tokens', async () => {
    const completion = await client.chat.completions.create({
      model: chatModel,
      messages: [
        { role: 'system', content: 'You are brief.' },
        { role: 'user', content: 'Say hello.' },
      ],
      max_tokens: 4,
      temperature: 0,
    });
    const choice = completion.choices[0];
    assert.ok((choice?.message.content ?? '').length > 0);
    assert.equal(choice?.message.role, 'assistant');
    assert.equal(choice?.finish_reason, 'length');
    assert.ok((completion.usage?.completion_tokens ?? 0) <= 4);
  });

  it('streams a short answer with a final usage chunk', async () => {
    const stream = await client.chat.completions.create({
      model: chatModel,
      messages: [{ role: 'user', content: 'Count to three.' }],
      max_completion_tokens: 6,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    assert.ok(text.length > 0);
    assert.ok(finish === 'length' || finish === 'stop');
    assert.ok((usage?.completion_tokens ?? 0) > 0 && (usage?.completion_tokens ?? 0) <= 6);
  });

  it('refuses tools and JSON mode on a model that cannot do them, naming the field', async () => {
    await assert.rejects(
      client.chat.completions.create({
        model: chatModel,
        messages: [{ role: 'user', content: 'hi' }],
        tools: [{ type: 'function', function: { name: 'noop', parameters: { type: 'object' } } }],
      }),
      (error: unknown) => error instanceof OpenAI.BadRequestError && error.param === 'tools',
    );
    await assert.rejects(
      client.chat.completions.create({
        model: chatModel,
        messages: [{ role: 'user', content: 'hi' }],
        response_format: { type: 'json_object' },
      }),
      (error: unknown) => error instanceof OpenAI.BadRequestError && error.param === 'response_format',
    );
  });

  it('embeds as floats and as base64 (decoded by the SDK) with the same values', async () => {
    const input = ['A cat sits on the mat.', 'Quarterly tax filings.'];
    const floats = await client.embeddings.create({ model: embeddingModel, input, encoding_format: 'float' });
    const decoded = await client.embeddings.create({ model: embeddingModel, input });
    assert.equal(floats.data.length, 2);
    assert.equal(floats.data[0]?.embedding.length, 384);
    assert.deepEqual(
      decoded.data.map((item) => item.embedding),
      floats.data.map((item) => item.embedding.map(Math.fround)),
    );
  });

  it('the openai-compatible provider works against this Ensemble’s own /v1, through invoke', async () => {
    // The upstream is an Ensemble too: it needs a key of its own, kept as the models' credential.
    const { secret } = await registry.keys.store.create(
      'default',
      newApiKeySchema.parse({ name: 'self upstream', allowedModels: [chatModel, embeddingModel] }),
    );
    await registry.credentials.create(newCredentialSchema.parse({ name: 'self', provider: 'ensemble', secret }));
    const self = (
      name: string,
      kind: string,
      providerModelId: string,
      options: Record<string, unknown> = {},
      parameters: Record<string, unknown> = {},
    ) =>
      registry.models.register(
        registerModelSchema.parse({
          name,
          kind,
          provider: 'openai-compatible',
          providerModelId,
          baseUrl: `${url}/v1`,
          credential: 'self',
          options,
          parameters,
        }),
        { actor: 'test' },
      );
    // A short answer: the point is the wiring, and a 256-token answer takes most of a minute on a busy machine.
    await self('self/smollm', 'chat', chatModel, {}, { maxTokens: 16 });
    // The provider's default: base64 on the wire (as OpenAIEmbeddings asks), decoded by LangChain.
    await self('self/minilm', 'embedding', embeddingModel);
    const invoke = (name: string, body: object) =>
      fetch(`${url}/api/models/${name}/invoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...registry.keys.admin },
        body: JSON.stringify(body),
      });

    const answer = await invoke('self/smollm', { messages: [{ role: 'user', content: 'Say hello.' }] });
    assert.equal(answer.status, 200, await answer.clone().text());
    const json = (await answer.json()) as { message: { content: string }; usage: { totalTokens: number } | null };
    assert.ok(json.message.content.length > 0);
    assert.ok((json.usage?.totalTokens ?? 0) > 0);

    const events = await readSse(
      await invoke('self/smollm', { messages: [{ role: 'user', content: 'Say hi.' }], stream: true }),
    );
    assert.ok(events.some((event) => event.event === 'token'));
    assert.equal(events.at(-1)?.event, 'done');

    const embedded = await invoke('self/minilm', { input: ['hello world'] });
    assert.equal(embedded.status, 200);
    const direct = await client.embeddings.create({
      model: embeddingModel,
      input: 'hello world',
      encoding_format: 'float',
    });
    const vector = ((await embedded.json()) as { embeddings: number[][] }).embeddings[0] ?? [];
    // Over base64 the vector travels as float32: the same numbers, at float32 precision.
    assert.deepEqual(vector, direct.data[0]?.embedding.map(Math.fround));
  });
});
