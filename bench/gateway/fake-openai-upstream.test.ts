import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { type BareProxy, startBareProxy } from './bare-proxy.ts';
import { type FakeOpenAiUpstream, startFakeOpenAiUpstream, streamedContent } from './fake-openai-upstream.ts';

const streamBody = (includeUsage: boolean) =>
  JSON.stringify({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Hello' }],
    stream: true,
    ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
  });

async function post(url: string, path: string, body: string): Promise<{ status: number; type: string; text: string }> {
  const response = await request(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  return {
    status: response.statusCode,
    type: String(response.headers['content-type']),
    text: await response.body.text(),
  };
}

interface Chunk {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: Array<{ index: number; delta: { role?: string; content?: string }; finish_reason: string | null }>;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
}

/** Splits an SSE body into its `data:` payloads, checking the framing on the way. */
function events(text: string): string[] {
  assert.ok(text.endsWith('\n\n'), 'the stream ends with a blank line');
  return text
    .slice(0, -2)
    .split('\n\n')
    .map((event) => {
      assert.match(event, /^data: /, `every event is a single data line: ${event.slice(0, 60)}`);
      assert.ok(!event.includes('\n'), 'one line per event');
      return event.slice(6);
    });
}

describe('fake OpenAI upstream', () => {
  let upstream: FakeOpenAiUpstream;
  let proxy: BareProxy;
  before(async () => {
    upstream = await startFakeOpenAiUpstream();
    proxy = await startBareProxy({ upstreamUrl: upstream.url });
  });
  after(async () => {
    await proxy.close();
    await upstream.close();
  });

  it('streams 10 chat.completion.chunk events, a usage chunk when asked, then [DONE]', async () => {
    const { status, type, text } = await post(upstream.url, '/v1/chat/completions', streamBody(true));
    assert.equal(status, 200);
    assert.match(type, /^text\/event-stream/);
    const payloads = events(text);
    assert.equal(payloads.at(-1), '[DONE]');
    const chunks = payloads.slice(0, -1).map((payload) => JSON.parse(payload) as Chunk);
    assert.equal(chunks.length, 11);
    for (const chunk of chunks) {
      assert.equal(chunk.object, 'chat.completion.chunk');
      assert.equal(chunk.id, chunks[0]?.id);
      assert.equal(typeof chunk.created, 'number');
      assert.equal(typeof chunk.model, 'string');
      assert.ok(Array.isArray(chunk.choices));
    }
    const content = chunks.slice(0, 10);
    assert.equal(content[0]?.choices[0]?.delta.role, 'assistant');
    assert.equal(content.map((chunk) => chunk.choices[0]?.delta.content ?? '').join(''), streamedContent.join(''));
    assert.deepEqual(
      content.map((chunk) => chunk.choices[0]?.finish_reason),
      [...Array.from({ length: 9 }, () => null), 'stop'],
    );
    for (const chunk of content) assert.equal(chunk.usage, null);
    const usage = chunks[10];
    assert.deepEqual(usage?.choices, []);
    assert.equal(
      usage?.usage?.total_tokens,
      (usage?.usage?.prompt_tokens ?? 0) + (usage?.usage?.completion_tokens ?? 0),
    );
  });

  it('sends no usage chunk and no usage fields unless stream_options.include_usage', async () => {
    const payloads = events((await post(upstream.url, '/v1/chat/completions', streamBody(false))).text);
    assert.equal(payloads.length, 11);
    assert.equal(payloads.at(-1), '[DONE]');
    for (const payload of payloads.slice(0, -1)) assert.ok(!('usage' in (JSON.parse(payload) as object)));
  });

  it('answers a chat.completion with usage, embeddings (float and base64) and the model list', async () => {
    const completion = JSON.parse(
      (await post(upstream.url, '/v1/chat/completions', '{"model":"m","messages":[{"role":"user","content":"x"}]}'))
        .text,
    ) as { object: string; choices: Array<{ message: { content: string } }>; usage: { total_tokens: number } };
    assert.equal(completion.object, 'chat.completion');
    assert.equal(completion.choices[0]?.message.content, streamedContent.join(''));
    assert.ok(completion.usage.total_tokens > 0);

    const floats = JSON.parse((await post(upstream.url, '/v1/embeddings', '{"model":"e","input":["a","b"]}')).text) as {
      data: Array<{ index: number; embedding: number[] }>;
    };
    assert.deepEqual(
      floats.data.map((item) => item.index),
      [0, 1],
    );
    assert.equal(floats.data[0]?.embedding.length, 1536);
    const base64 = JSON.parse(
      (await post(upstream.url, '/v1/embeddings', '{"model":"e","input":"a","encoding_format":"base64"}')).text,
    ) as { data: Array<{ embedding: string }> };
    const decoded = new Float32Array(Uint8Array.from(Buffer.from(base64.data[0]?.embedding ?? '', 'base64')).buffer);
    assert.equal(decoded.length, 1536);
    assert.ok(Math.abs((decoded[5] ?? 0) - (floats.data[0]?.embedding[5] ?? 0)) < 1e-6);

    const models = await request(`${upstream.url}/v1/models`);
    assert.equal(((await models.body.json()) as { object: string }).object, 'list');
  });

  it('answers errors in OpenAI shape', async () => {
    const { status, text } = await post(upstream.url, '/v1/chat/completions', '{not json');
    assert.equal(status, 400);
    const { error } = JSON.parse(text) as { error: { message: string; type: string; param: null; code: null } };
    assert.equal(error.type, 'invalid_request_error');
  });

  it('passes through the bare proxy unchanged, streamed and not', async () => {
    for (const body of [streamBody(true), streamBody(false), '{"model":"m","messages":[]}']) {
      const directly = await post(upstream.url, '/v1/chat/completions', body);
      const proxied = await post(proxy.url, '/v1/chat/completions', body);
      assert.equal(proxied.status, directly.status);
      assert.equal(proxied.type, directly.type);
      assert.equal(proxied.text, directly.text);
    }
  });
});
