// OpenAI's Responses API (`POST /v1/responses`) through the official openai SDK against `ensemble start`:
// the built-in local chat model (no network), and an OpenAI-wire fake upstream that records what it
// received, so the translation to a chat completion is checked field by field — tools, formats, a
// route that falls back, streaming (text and tool calls), a stream that dies, the usage ledger, and
// the requests Ensemble refuses.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { waitFor } from '@ensemble/testkit';
import { Agent, OpenAIResponsesModel, run, setTracingDisabled, tool } from '@openai/agents';
import OpenAI from 'openai';
import {
  answerCompletion,
  answerError,
  completionBody,
  type FakeOpenAiServer,
  fakeUsage,
  startFakeOpenAiServer,
} from '../../../server/src/modules/openai-gateway/testing/fake-openai-server.ts';
import { linkBuiltInArtifacts } from '../testing/built-in-artifacts.ts';
import { type EnsembleProcess, spawnEnsemble } from '../testing/ensemble-process.ts';
import { readSse } from '../testing/read-sse.ts';
import { waitForBuiltInModels } from '../testing/wait-for-built-in-models.ts';

const localChat = 'local/smollm2-135m-instruct';
const weatherTool = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'The weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: false,
};

type Json = ReturnType<typeof JSON.parse>;

interface UsageRecord {
  requestId: string;
  endpoint: string;
  requested: string;
  route: string | null;
  target: string | null;
  inputTokens: number;
  outputTokens: number;
  stream: boolean;
  status: number;
  errorCode: string | null;
  attempts: number;
}

/** A chat chunk as OpenAI streams it. */
const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) =>
  `data: ${JSON.stringify({
    id: 'chatcmpl-fake0002',
    object: 'chat.completion.chunk',
    created: 1_764_000_000,
    model: 'upstream-model',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  })}\n\n`;

describe('POST /v1/responses through the openai SDK', { timeout: 600_000 }, () => {
  let home: string;
  let ensemble: EnsembleProcess;
  let upstream: FakeOpenAiServer;
  let broken: FakeOpenAiServer;
  let client: OpenAI;

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${ensemble.url}${path}`, {
      method,
      headers: { ...ensemble.auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    const json = response.headers.get('content-type')?.includes('json') === true && text !== '';
    return {
      status: response.status,
      headers: response.headers,
      text,
      body: (json ? JSON.parse(text) : undefined) as Json,
    };
  };
  const received = () => upstream.requests.at(-1)?.body as Json;
  const ledgerRow = (requestId: string) =>
    waitFor(`the usage record of ${requestId}`, async () => {
      const records = (await call('GET', '/api/usage/records?limit=200')).body.data as UsageRecord[];
      return records.find((record) => record.requestId === requestId);
    });

  before(async () => {
    upstream = await startFakeOpenAiServer();
    broken = await startFakeOpenAiServer(answerError(503, 'overloaded'));
    home = await mkdtemp(join(tmpdir(), 'ensemble-responses-'));
    await chmod(home, 0o755);
    await linkBuiltInArtifacts(join(home, 'artifacts'));
    ensemble = await spawnEnsemble(['start'], {
      ENSEMBLE_HOME: home,
      ENSEMBLE_BUILT_IN_MODELS: 'deploy',
      // No periodic health calls on the local LLM: one in flight when the process stops can crash llama.cpp's teardown.
      MODEL_HEALTH_INTERVAL_MS: '0',
      // Every answer here comes from a model: the exact-match cache would answer repeated requests.
      ENSEMBLE_GATEWAY_CACHE_TTL_MS: '0',
    });
    await waitForBuiltInModels(ensemble);
    for (const [name, server] of [
      ['upstream-chat', upstream],
      ['broken-chat', broken],
    ] as const) {
      const registered = await call('POST', '/api/models', {
        name,
        kind: 'chat',
        provider: 'openai-compatible',
        providerModelId: 'upstream-model',
        baseUrl: server.baseUrl,
      });
      assert.equal(registered.status, 201, registered.text);
    }
    const route = await call('POST', '/api/routes', {
      name: 'resilient',
      policy: { strategy: 'fallback', targets: ['broken-chat', 'upstream-chat'] },
    });
    assert.equal(route.status, 201, route.text);
    client = new OpenAI({ baseURL: `${ensemble.url}/v1`, apiKey: ensemble.adminKey, maxRetries: 0 });
  });
  after(async () => {
    if (ensemble) assert.equal(await ensemble.stop('SIGTERM'), 0, ensemble.output());
    await upstream?.close();
    await broken?.close();
    if (home) await rm(home, { recursive: true, force: true });
  });
  beforeEach(() => {
    upstream.requests.length = 0;
    upstream.handle(answerCompletion());
  });

  it('answers a local model, whole and streamed, in the Responses shape', async () => {
    const { data: response, response: raw } = await client.responses
      .create({
        model: localChat,
        instructions: 'You are brief.',
        input: 'Say hello.',
        max_output_tokens: 4,
        temperature: 0,
      })
      .withResponse();
    assert.match(response.id, /^resp_/);
    assert.equal(response.object, 'response');
    assert.equal(response.model, localChat);
    assert.equal(typeof response.created_at, 'number');
    assert.equal((response as unknown as { store: boolean }).store, false, 'Ensemble stores nothing');
    assert.equal(response.instructions, 'You are brief.');
    assert.ok(response.output_text.length > 0, 'the SDK reads the output text');
    const message = response.output[0];
    assert.equal(message?.type, 'message');
    assert.ok((response.usage?.output_tokens ?? 0) > 0 && (response.usage?.output_tokens ?? 0) <= 4);
    assert.equal(
      response.usage?.total_tokens,
      (response.usage?.input_tokens ?? 0) + (response.usage?.output_tokens ?? 0),
    );
    // Four tokens are rarely a whole answer: the status says so, with OpenAI's reason.
    if (response.status === 'incomplete')
      assert.deepEqual(response.incomplete_details, { reason: 'max_output_tokens' });
    else assert.equal(response.status, 'completed');
    assert.equal(raw.headers.get('x-ensemble-target'), `${localChat}@1`);
    assert.ok(raw.headers.get('x-request-id'));

    const stream = client.responses.stream({ model: localChat, input: 'Count to three.', max_output_tokens: 8 });
    const types: string[] = [];
    let deltas = '';
    const sequence: number[] = [];
    for await (const event of stream) {
      types.push(event.type);
      sequence.push(event.sequence_number);
      if (event.type === 'response.output_text.delta') deltas += event.delta;
    }
    const final = await stream.finalResponse();
    assert.deepEqual(
      sequence,
      types.map((_, index) => index),
      'numbered from 0 without gaps',
    );
    const kinds = [...new Set(types)];
    assert.deepEqual(kinds.slice(0, 4), [
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
    ]);
    assert.ok(types.includes('response.output_text.delta'));
    const closing = types.slice(types.lastIndexOf('response.output_text.delta') + 1);
    assert.deepEqual(closing.slice(0, 3), [
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
    ]);
    assert.ok(['response.completed', 'response.incomplete'].includes(closing.at(-1) as string));
    assert.equal(final.output_text, deltas);
    assert.ok((final.usage?.output_tokens ?? 0) > 0 && (final.usage?.output_tokens ?? 0) <= 8);
  });

  it('translates the request to the chat completion the upstream receives', async () => {
    const response = await client.responses.create({
      model: 'upstream-chat',
      instructions: 'Answer in JSON.',
      input: [
        { role: 'developer', content: 'Be exact.' },
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'What is in this picture?' },
            { type: 'input_image', image_url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'low' },
          ],
        },
        {
          type: 'message',
          role: 'assistant',
          id: 'msg_1',
          status: 'completed',
          content: [{ type: 'output_text', text: 'A cat. Checking the weather.', annotations: [] }],
        },
        { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Lisbon"}' },
        { type: 'function_call_output', call_id: 'call_1', output: '{"celsius":21}' },
        { role: 'user', content: 'So?' },
      ],
      tools: [weatherTool],
      tool_choice: { type: 'function', name: 'get_weather' },
      parallel_tool_calls: false,
      text: {
        format: {
          type: 'json_schema',
          name: 'answer',
          schema: { type: 'object', properties: { text: { type: 'string' } } },
          strict: true,
        },
      },
      max_output_tokens: 50,
      temperature: 0.2,
      top_p: 0.9,
      user: 'user-7',
      metadata: { team: 'search' },
      store: true,
    });
    assert.deepEqual(received(), {
      model: 'upstream-model',
      messages: [
        { role: 'system', content: 'Answer in JSON.' },
        { role: 'system', content: 'Be exact.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this picture?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'low' } },
          ],
        },
        {
          role: 'assistant',
          content: 'A cat. Checking the weather.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Lisbon"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '{"celsius":21}' },
        { role: 'user', content: 'So?' },
      ],
      // An OpenAI-compatible server gets max_tokens (OpenAI's own models get max_completion_tokens).
      max_tokens: 50,
      temperature: 0.2,
      top_p: 0.9,
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'The weather in a city',
            parameters: weatherTool.parameters,
            strict: false,
          },
        },
      ],
      parallel_tool_calls: false,
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'answer',
          schema: { type: 'object', properties: { text: { type: 'string' } } },
          strict: true,
        },
      },
      user: 'user-7',
      // Neither `metadata` nor `store` goes upstream: Ensemble stores nothing.
    });
    assert.equal(response.status, 'completed');
    assert.equal(response.output_text, 'Hello from upstream.');
    assert.deepEqual(response.metadata, { team: 'search' });
    assert.equal((response as unknown as { store: boolean }).store, false, 'Ensemble stores nothing');
    assert.deepEqual(response.usage, {
      input_tokens: fakeUsage.prompt_tokens,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: fakeUsage.completion_tokens,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: fakeUsage.total_tokens,
    });
    assert.deepEqual(response.text?.format, {
      type: 'json_schema',
      name: 'answer',
      schema: { type: 'object', properties: { text: { type: 'string' } } },
      strict: true,
    });
    assert.equal(response.tools[0]?.type, 'function');
  });

  it('answers tool calls as function_call items, whole and streamed', async () => {
    upstream.handle((_request, response) => {
      const body = completionBody('');
      const choice = body.choices[0] as Record<string, unknown>;
      choice.message = {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_b', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
        ],
      };
      choice.finish_reason = 'tool_calls';
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    });
    const whole = await client.responses.create({ model: 'upstream-chat', input: 'Weather?', tools: [weatherTool] });
    assert.deepEqual(
      whole.output.map((item) => item.type === 'function_call' && [item.call_id, item.name, item.arguments]),
      [
        ['call_a', 'get_weather', '{"city":"Paris"}'],
        ['call_b', 'get_weather', '{"city":"Oslo"}'],
      ],
    );
    assert.match(whole.output[0]?.id ?? '', /^fc_/);

    upstream.handle((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(chunk({ role: 'assistant', content: 'Checking.' }));
      response.write(
        chunk({
          tool_calls: [{ index: 0, id: 'call_s', type: 'function', function: { name: 'get_weather', arguments: '' } }],
        }),
      );
      response.write(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }));
      response.write(chunk({ tool_calls: [{ index: 0, function: { arguments: '"Rome"}' } }] }));
      response.write(chunk({}, 'tool_calls'));
      response.write(
        `data: ${JSON.stringify({ id: 'chatcmpl-fake0002', object: 'chat.completion.chunk', choices: [], usage: fakeUsage })}\n\n`,
      );
      response.end('data: [DONE]\n\n');
    });
    const stream = await client.responses.create({
      model: 'upstream-chat',
      input: 'Weather in Rome?',
      tools: [weatherTool],
      stream: true,
    });
    const events: Array<{ type: string } & Record<string, unknown>> = [];
    for await (const event of stream) events.push(event as unknown as { type: string } & Record<string, unknown>);
    assert.deepEqual(
      events.map((event) => event.type),
      [
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.content_part.added',
        'response.output_text.delta',
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.output_item.added',
        'response.function_call_arguments.delta',
        'response.function_call_arguments.delta',
        'response.function_call_arguments.done',
        'response.output_item.done',
        'response.completed',
      ],
    );
    const completed = (events.at(-1) as unknown as OpenAI.Responses.ResponseCompletedEvent).response;
    assert.deepEqual(
      completed.output.map((item) => (item.type === 'function_call' ? [item.call_id, item.arguments] : item.type)),
      ['message', ['call_s', '{"city":"Rome"}']],
    );
    assert.equal(completed.usage?.total_tokens, fakeUsage.total_tokens);
    // The upstream was asked for the usage chunk so the ledger and `response.completed` have tokens.
    assert.deepEqual(received().stream_options, { include_usage: true });

    // Parallel calls streamed interleaved: each its own item, accumulated by the SDK's stream helper.
    upstream.handle((_request, response) => {
      const call = (index: number, fields: Record<string, unknown>) => chunk({ tool_calls: [{ index, ...fields }] });
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(call(0, { id: 'call_p', type: 'function', function: { name: 'get_weather', arguments: '' } }));
      response.write(
        call(1, { id: 'call_q', type: 'function', function: { name: 'get_weather', arguments: '{"city":' } }),
      );
      response.write(call(0, { function: { arguments: '{"city":"Paris"}' } }));
      response.write(call(1, { function: { arguments: '"Oslo"}' } }));
      response.write(chunk({}, 'tool_calls'));
      response.end('data: [DONE]\n\n');
    });
    const parallel = await client.responses
      .stream({ model: 'upstream-chat', input: 'Paris and Oslo?', tools: [weatherTool] })
      .finalResponse();
    assert.deepEqual(
      parallel.output.map((item) => item.type === 'function_call' && [item.call_id, item.arguments]),
      [
        ['call_p', '{"city":"Paris"}'],
        ['call_q', '{"city":"Oslo"}'],
      ],
    );
  });

  it('answers a refusal as a refusal part, whole and streamed', async () => {
    upstream.handle((request, response) => {
      if (request.body.stream === true) {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.write(chunk({ role: 'assistant', content: null, refusal: 'I cannot ' }));
        response.write(chunk({ refusal: 'help with that.' }));
        response.write(chunk({}, 'stop'));
        response.end('data: [DONE]\n\n');
        return;
      }
      const body = completionBody('');
      (body.choices[0] as Record<string, unknown>).message = {
        role: 'assistant',
        content: null,
        refusal: 'I cannot help with that.',
      };
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    });
    const refusal = { type: 'refusal', refusal: 'I cannot help with that.' };
    const whole = await client.responses.create({ model: 'upstream-chat', input: 'Something forbidden' });
    assert.deepEqual(whole.output[0]?.type === 'message' && whole.output[0].content, [refusal]);
    const stream = client.responses.stream({ model: 'upstream-chat', input: 'Something forbidden' });
    const deltas: string[] = [];
    stream.on('response.refusal.delta', (event) => deltas.push(event.delta));
    const final = await stream.finalResponse();
    assert.deepEqual(deltas, ['I cannot ', 'help with that.']);
    // The SDK's stream helper adds `parsed: null` to parts.
    const parts = final.output[0]?.type === 'message' ? final.output[0].content : [];
    assert.deepEqual(
      parts.map((part) => part.type === 'refusal' && { type: part.type, refusal: part.refusal }),
      [refusal],
    );
  });

  it('serves the OpenAI Agents SDK: an agent calls a function tool and answers with its result', async () => {
    // Tracing would export to OpenAI's servers.
    setTracingDisabled(true);
    upstream.handle((request, response) => {
      const messages = request.body.messages as Array<{ role: string; content: unknown }>;
      const toolResult = messages.find((message) => message.role === 'tool');
      const body = completionBody(toolResult === undefined ? '' : `It is ${String(toolResult.content)} in Lisbon.`);
      const choice = body.choices[0] as Record<string, unknown>;
      if (toolResult === undefined) {
        choice.message = {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_w', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Lisbon"}' } },
          ],
        };
        choice.finish_reason = 'tool_calls';
      }
      if (request.body.stream === true) {
        // The agent's streamed run: the same answer as one chunk per field, then usage.
        const message = choice.message as { content: string | null; tool_calls?: unknown[] };
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.write(
          chunk({
            role: 'assistant',
            ...(message.content ? { content: message.content } : {}),
            ...(message.tool_calls
              ? { tool_calls: message.tool_calls.map((call, index) => ({ index, ...(call as object) })) }
              : {}),
          }),
        );
        response.write(chunk({}, choice.finish_reason as string));
        response.write(`data: ${JSON.stringify({ choices: [], usage: fakeUsage })}\n\n`);
        response.end('data: [DONE]\n\n');
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    });
    const calledWith: unknown[] = [];
    const getWeather = tool({
      name: 'get_weather',
      description: 'The weather in a city',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string' } },
        required: ['city'],
        additionalProperties: false,
      },
      strict: true,
      execute: async (input) => {
        calledWith.push(input);
        return '21°C';
      },
    });
    const agent = new Agent({
      name: 'Weather',
      instructions: 'Answer with the weather.',
      model: new OpenAIResponsesModel(client as never, 'upstream-chat'),
      tools: [getWeather],
    });
    const result = await run(agent, 'What is the weather in Lisbon?');
    assert.equal(result.finalOutput, 'It is 21°C in Lisbon.');
    assert.equal(calledWith.length, 1);
    assert.deepEqual(typeof calledWith[0] === 'string' ? JSON.parse(calledWith[0]) : calledWith[0], { city: 'Lisbon' });
    // The second turn sent the whole conversation: the call and its output, as chat messages.
    const second = received().messages as Array<Record<string, unknown>>;
    assert.deepEqual(
      second.map((message) => message.role),
      ['system', 'user', 'assistant', 'tool'],
    );
    assert.deepEqual(second[2]?.tool_calls, [
      { id: 'call_w', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Lisbon"}' } },
    ]);
    assert.deepEqual(second[3], { role: 'tool', tool_call_id: 'call_w', content: '21°C' });

    const streamed = await run(agent, 'What is the weather in Lisbon?', { stream: true });
    let text = '';
    for await (const event of streamed.toTextStream()) text += event;
    await streamed.completed;
    assert.equal(streamed.finalOutput, 'It is 21°C in Lisbon.');
    assert.equal(text, 'It is 21°C in Lisbon.');
    assert.equal(calledWith.length, 2);
  });

  it('runs routes (a fallback answers) and writes the ledger with endpoint responses', async () => {
    const { data: response, response: raw } = await client.responses
      .create({ model: 'resilient', input: 'hello' })
      .withResponse();
    assert.equal(response.output_text, 'Hello from upstream.');
    assert.equal(response.model, 'resilient');
    assert.equal(raw.headers.get('x-ensemble-route'), 'resilient@1');
    assert.equal(raw.headers.get('x-ensemble-target'), 'upstream-chat@1');
    assert.ok(broken.requests.length >= 1, 'the first target was tried');
    const row = await ledgerRow(raw.headers.get('x-request-id') as string);
    assert.equal(row.endpoint, 'responses');
    assert.equal(row.requested, 'resilient');
    assert.equal(row.route, 'resilient');
    assert.equal(row.target, 'upstream-chat@1');
    assert.equal(row.stream, false);
    assert.equal(row.status, 200);
    assert.ok(row.attempts >= 2);
    assert.deepEqual([row.inputTokens, row.outputTokens], [fakeUsage.prompt_tokens, fakeUsage.completion_tokens]);

    const streamed = await client.responses.create({ model: 'resilient', input: 'hello', stream: true }).withResponse();
    let text = '';
    for await (const event of streamed.data) if (event.type === 'response.output_text.delta') text += event.delta;
    assert.equal(text, 'Hello from upstream.');
    const streamedRow = await ledgerRow(streamed.response.headers.get('x-request-id') as string);
    assert.equal(streamedRow.endpoint, 'responses');
    assert.equal(streamedRow.stream, true);
    assert.equal(streamedRow.target, 'upstream-chat@1');
    assert.deepEqual(
      [streamedRow.inputTokens, streamedRow.outputTokens],
      [fakeUsage.prompt_tokens, fakeUsage.completion_tokens],
    );
  });

  it('answers similar prompts on a route from the semantic cache, whole and streamed', async () => {
    const route = await call('POST', '/api/routes', {
      name: 'faq',
      policy: {
        strategy: 'single',
        target: 'upstream-chat',
        semanticCache: { embeddingModel: 'local/all-minilm-l6-v2', threshold: 0.85, ttlMs: 60_000 },
      },
    });
    assert.equal(route.status, 201, route.text);
    const ask = (input: string, stream = false) => call('POST', '/v1/responses', { model: 'faq', input, stream });
    const first = await ask('What is the capital city of France?');
    assert.equal(first.headers.get('x-ensemble-semantic-cache'), 'miss');
    assert.equal(upstream.requests.length, 1);
    // The answer is kept off the request path: ask until it is there.
    const hit = await waitFor('a semantic cache hit', async () => {
      const answer = await ask('What’s the capital city of France?');
      return answer.headers.get('x-ensemble-semantic-cache') === 'hit' ? answer : undefined;
    });
    const calls = upstream.requests.length;
    assert.equal(hit.status, 200, hit.text);
    assert.equal(hit.body.object, 'response');
    assert.match(hit.body.id, /^resp_/);
    assert.equal(hit.body.output[0].content[0].text, 'Hello from upstream.');
    assert.equal(hit.headers.get('x-ensemble-target'), 'upstream-chat@1');

    const stream = client.responses.stream({ model: 'faq', input: 'what is the capital city of france' });
    const final = await stream.finalResponse();
    assert.equal(final.output_text, 'Hello from upstream.');
    assert.equal(final.status, 'completed');
    assert.equal(upstream.requests.length, calls, 'hits never went upstream');
    const row = await ledgerRow(hit.headers.get('x-request-id') as string);
    assert.equal(row.endpoint, 'responses');
    assert.equal((row as unknown as { cacheHit: boolean }).cacheHit, true);
  });

  it('ends a stream whose upstream dies with response.failed and error (the SDK raises)', async () => {
    upstream.handle((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(chunk({ role: 'assistant', content: 'Half an ' }));
      setTimeout(() => response.destroy(), 50);
    });
    const raw = await fetch(`${ensemble.url}/v1/responses`, {
      method: 'POST',
      headers: { ...ensemble.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'upstream-chat', input: 'hi', stream: true }),
    });
    assert.equal(raw.status, 200);
    const events = await readSse(raw);
    assert.deepEqual(
      events.slice(-2).map((event) => event.event),
      ['response.failed', 'error'],
    );
    const failed = events.at(-2)?.data as { response: { status: string; error: { code: string } } };
    assert.equal(failed.response.status, 'failed');
    assert.equal(typeof failed.response.error.code, 'string');
    assert.ok(!events.some((event) => event.event === 'response.completed'));

    const stream = await client.responses.create({ model: 'upstream-chat', input: 'hi', stream: true });
    await assert.rejects(async () => {
      for await (const _event of stream) {
        // read to the end
      }
    }, OpenAI.APIError);
  });

  it('stops the upstream call when the client goes away mid-stream', async () => {
    let upstreamClosed = false;
    upstream.handle((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(chunk({ role: 'assistant', content: 'Once ' }));
      const timer = setInterval(() => response.write(chunk({ content: 'more ' })), 100);
      response.on('close', () => {
        clearInterval(timer);
        upstreamClosed = true;
      });
    });
    const controller = new AbortController();
    const raw = await fetch(`${ensemble.url}/v1/responses`, {
      method: 'POST',
      headers: { ...ensemble.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'upstream-chat', input: 'a long story', stream: true }),
      signal: controller.signal,
    });
    await readSse(raw, (event) => {
      if (event.event === 'response.output_text.delta') controller.abort();
    });
    await waitFor('the upstream call to be stopped', async () => upstreamClosed || undefined);
    const row = await ledgerRow(raw.headers.get('x-request-id') as string);
    assert.equal(row.endpoint, 'responses');
    assert.equal(row.errorCode, 'client_disconnected');
  });

  it('refuses what it cannot do with a 400 naming the field, in OpenAI’s error shape', async () => {
    const refused = async (body: Record<string, unknown>, param: string, message?: RegExp) => {
      await assert.rejects(
        client.responses.create({ model: 'upstream-chat', input: 'hi', ...body } as never),
        (error: unknown) => {
          assert.ok(error instanceof OpenAI.BadRequestError, String(error));
          assert.equal(error.param, param, error.message);
          if (message !== undefined) assert.match(error.message, message);
          return true;
        },
      );
    };
    const stateless = /send the whole conversation in `input`/;
    await refused({ previous_response_id: 'resp_123' }, 'previous_response_id', stateless);
    await refused({ conversation: 'conv_123' }, 'conversation', stateless);
    await refused({ background: true }, 'background');
    await refused({ tools: [{ type: 'web_search' }] }, 'tools[0].type', /built-in tools/);
    await refused({ tool_choice: { type: 'file_search' } }, 'tool_choice');
    await refused({ input: [] }, 'input');
    await refused({ input: [{ type: 'item_reference', id: 'msg_1' }] }, 'input[0].type', stateless);
    await refused({ input: [{ type: 'web_search_call', id: 'ws_1' }] }, 'input[0].type');
    await refused({ input: [{ role: 'tool', content: 'x' }] }, 'input[0].role');
    await refused({ input: [{ type: 'function_call_output', output: 'x' }] }, 'input[0].call_id');
    await refused({ text: { format: { type: 'json_schema', schema: {} } } }, 'text.format.name');
    await refused({ temperature: 3 }, 'temperature');
    assert.equal(upstream.requests.length, 0, 'nothing refused reached the upstream');

    const missing = await call('POST', '/v1/responses', { input: 'hi' });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.param, 'model');
    const unknown = await call('POST', '/v1/responses', { model: 'nobody/nothing', input: 'hi' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'model_not_found');
    // A model that cannot take tools says so (the local model, through LangChain).
    await assert.rejects(
      client.responses.create({ model: localChat, input: 'hi', tools: [weatherTool] }),
      (error: unknown) => error instanceof OpenAI.BadRequestError && error.param === 'tools',
    );
    // Refused on the translated chat request, named as this request named it.
    await assert.rejects(
      client.responses.create({
        model: localChat,
        input: 'hi',
        text: { format: { type: 'json_schema', name: 'answer', schema: { type: 'object' } } },
      }),
      (error: unknown) => error instanceof OpenAI.BadRequestError && error.param === 'text.format',
    );
  });
});
