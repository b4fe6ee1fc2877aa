// The gateway's semantic cache through `ensemble start`: a route opts in (policy.semanticCache), prompts
// are embedded with the built-in MiniLM, the upstream is the OpenAI-wire fake that counts its calls.
// Same and similar prompts are answered from the cache (also as a stream), a dissimilar one is not, an
// expired answer is not served, another project never gets this one's answers, and the usage ledger
// records hits at zero cost.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@ensemble/testkit';
import { linkBuiltInArtifacts } from '../testing/built-in-artifacts.ts';
import { type EnsembleProcess, spawnEnsemble } from '../testing/ensemble-process.ts';
import { type FakeJobUpstream, startFakeJobUpstream } from '../testing/fake-job-upstream.ts';

/** Answers as parsed JSON: the assertions below say what they expect of them. */
type Json = ReturnType<typeof JSON.parse>;

describe('semantic cache on a route', { timeout: 600_000 }, () => {
  let home: string;
  let ensemble: EnsembleProcess;
  let upstream: FakeJobUpstream;

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${ensemble.url}${path}`, {
      method,
      headers: { ...ensemble.auth, ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
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
  const ask = (content: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    call('POST', '/v1/chat/completions', { model: 'faq', messages: [{ role: 'user', content }], ...extra }, headers);
  const calls = (text: string) => upstream.answered.get(text) ?? 0;

  before(async () => {
    upstream = await startFakeJobUpstream();
    home = await mkdtemp(join(tmpdir(), 'ensemble-semantic-'));
    await chmod(home, 0o755);
    await linkBuiltInArtifacts(join(home, 'artifacts'));
    ensemble = await spawnEnsemble(['start'], {
      ENSEMBLE_HOME: home,
      ENSEMBLE_BUILT_IN_MODELS: 'register',
      MODEL_HEALTH_INTERVAL_MS: '0',
      // The exact-match cache off: every answer here comes from the upstream or the semantic cache.
      ENSEMBLE_GATEWAY_CACHE_TTL_MS: '0',
    });
    for (const [project, headers] of [
      ['default', {}],
      ['team-b', { 'x-ensemble-project': 'team-b' }],
    ] as const) {
      if (project === 'team-b') {
        const created = await call('POST', '/api/projects', { id: 'team-b', name: 'Team B' });
        assert.equal(created.status, 201, created.text);
      }
      const chat = await call(
        'POST',
        '/api/models',
        {
          name: 'upstream-chat',
          kind: 'chat',
          provider: 'openai-compatible',
          providerModelId: 'fake-chat',
          baseUrl: upstream.baseUrl,
          pricing: { inputPerMillionTokens: 1000, outputPerMillionTokens: 2000 },
        },
        headers,
      );
      assert.equal(chat.status, 201, chat.text);
    }
    // Team B has no built-in models: its prompts are embedded by the upstream's embeddings.
    const embedder = await call(
      'POST',
      '/api/models',
      {
        name: 'upstream-embed',
        kind: 'embedding',
        provider: 'openai-compatible',
        providerModelId: 'fake-embedding',
        baseUrl: upstream.baseUrl,
      },
      { 'x-ensemble-project': 'team-b' },
    );
    assert.equal(embedder.status, 201, embedder.text);
    const route = (embeddingModel: string, ttlMs: number) => ({
      name: 'faq',
      policy: {
        strategy: 'single',
        target: 'upstream-chat',
        semanticCache: { embeddingModel, threshold: 0.85, ttlMs },
      },
    });
    const a = await call('POST', '/api/routes', route('local/all-minilm-l6-v2', 4_000));
    assert.equal(a.status, 201, a.text);
    assert.equal(a.body.current.policy.semanticCache.enabled, true);
    const b = await call('POST', '/api/routes', route('upstream-embed', 60_000), { 'x-ensemble-project': 'team-b' });
    assert.equal(b.status, 201, b.text);
  });

  after(async () => {
    if (ensemble) assert.equal(await ensemble.stop(), 0, ensemble.output());
    await upstream?.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('answers the same and similar prompts from the cache, not dissimilar ones; streams hits too', async () => {
    const question = 'What is the capital city of France?';
    const first = await ask(question);
    assert.equal(first.status, 200, first.text);
    assert.equal(first.headers.get('x-ensemble-semantic-cache'), 'miss');
    assert.equal(first.body.choices[0].message.content, `echo: ${question}`);
    assert.equal(calls(question), 1);

    // The answer is kept off the request path: ask until the same prompt hits (each miss went upstream).
    let same: Awaited<ReturnType<typeof ask>> | undefined;
    await waitFor(
      'the same prompt to hit',
      async () => {
        same = await ask(question);
        return same.headers.get('x-ensemble-semantic-cache') === 'hit';
      },
      { intervalMs: 200 },
    );
    const upstreamCalls = calls(question);
    assert.equal(same?.headers.get('x-ensemble-cache-status'), 'hit');
    assert.equal(same?.headers.get('x-ensemble-route'), 'faq@1');
    assert.equal(same?.headers.get('x-ensemble-target'), 'upstream-chat@1');
    assert.deepEqual(same?.body, first.body, 'the stored answer, in OpenAI’s shape');

    const similar = await ask("What's the capital of France?");
    assert.equal(similar.headers.get('x-ensemble-semantic-cache'), 'hit');
    assert.ok(Number(similar.headers.get('x-ensemble-cache-similarity')) >= 0.85);
    assert.equal(similar.body.choices[0].message.content, `echo: ${question}`);
    assert.equal(calls("What's the capital of France?"), 0, 'no upstream call for a hit');

    const streamed = await fetch(`${ensemble.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...ensemble.auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'faq',
        messages: [{ role: 'user', content: 'Tell me the capital of France.' }],
        stream: true,
        stream_options: { include_usage: true },
      }),
    });
    assert.equal(streamed.headers.get('x-ensemble-semantic-cache'), 'hit');
    assert.match(streamed.headers.get('content-type') ?? '', /text\/event-stream/);
    const text = await streamed.text();
    assert.ok(text.trimEnd().endsWith('data: [DONE]'), text);
    const chunks = text
      .split('\n\n')
      .filter((block) => block.startsWith('data: {'))
      .map((block) => JSON.parse(block.slice(6)));
    assert.equal(chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? '').join(''), `echo: ${question}`);
    assert.equal(chunks.at(-1).usage.total_tokens, 15);

    const other = await ask('How do I bake sourdough bread at home?');
    assert.equal(other.headers.get('x-ensemble-semantic-cache'), 'miss');
    assert.equal(calls('How do I bake sourdough bread at home?'), 1);

    const bypass = await ask(question, {}, { 'x-ensemble-cache': 'no-store' });
    assert.equal(bypass.headers.get('x-ensemble-semantic-cache'), null);
    assert.equal(calls(question), upstreamCalls + 1, 'hits never went upstream; no-store does');

    // The usage ledger: hits are cache hits at zero cost, misses cost what the model's price says.
    await waitFor('the usage ledger to record the hits', async () => {
      const records = (await call('GET', '/api/usage/records?limit=100')).body.data as Array<{ cacheHit: boolean }>;
      return records.filter((record) => record.cacheHit).length >= 3;
    });
    const records = (await call('GET', '/api/usage/records?limit=100')).body.data as Array<{
      cacheHit: boolean;
      costUsd: number | null;
      route: string | null;
      target: string | null;
      inputTokens: number;
    }>;
    const hits = records.filter((record) => record.cacheHit);
    assert.ok(hits.every((hit) => hit.costUsd === 0 && hit.route === 'faq' && hit.target === 'upstream-chat@1'));
    const misses = records.filter((record) => !record.cacheHit && record.route === 'faq');
    assert.ok(misses.length >= 2);
    assert.ok(misses.every((miss) => (miss.costUsd ?? 0) > 0));
  });

  it('keeps a streamed answer too: the next similar prompt gets it whole', async () => {
    const question = 'How many legs does a spider have?';
    const streamed = await fetch(`${ensemble.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...ensemble.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'faq', messages: [{ role: 'user', content: question }], stream: true }),
    });
    assert.equal(streamed.status, 200);
    assert.equal(streamed.headers.get('x-ensemble-semantic-cache'), 'miss');
    const text = await streamed.text();
    assert.ok(text.trimEnd().endsWith('data: [DONE]'), text);
    assert.doesNotMatch(text, /"usage":\{/, 'the client did not ask for the usage chunk');
    // Kept off the request path once the stream ended; one ask after that (a miss would keep its own answer).
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const kept = await ask('How many legs do spiders have?');
    assert.equal(kept.headers.get('x-ensemble-semantic-cache'), 'hit', kept.text);
    assert.equal(kept.body.object, 'chat.completion');
    assert.equal(kept.body.choices[0].message.content, `echo: ${question}`);
    assert.equal(kept.body.choices[0].finish_reason, 'stop');
    assert.equal(kept.body.usage.total_tokens, 15);
  });

  it('keeps answers per request shape: other tools, format or sampling, or an image, never get them', async () => {
    const question = 'Who wrote the play Romeo and Juliet?';
    assert.equal((await ask(question)).headers.get('x-ensemble-semantic-cache'), 'miss');
    await waitFor(
      'the answer to be kept',
      async () => (await ask(question)).headers.get('x-ensemble-semantic-cache') === 'hit',
      {
        intervalMs: 200,
      },
    );
    const tools = [
      { type: 'function', function: { name: 'lookup_planet', parameters: { type: 'object', properties: {} } } },
    ];
    for (const extra of [
      { temperature: 0 },
      { max_tokens: 5 },
      { tools },
      { response_format: { type: 'json_object' } },
    ]) {
      const before = calls(question);
      const answer = await ask(question, extra);
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.headers.get('x-ensemble-semantic-cache'), 'miss', JSON.stringify(extra));
      assert.equal(calls(question), before + 1, `${JSON.stringify(extra)} went upstream`);
    }
    // The same shape again hits once its own answer is kept.
    await waitFor(
      'the temperature-0 answer to be kept',
      async () => (await ask(question, { temperature: 0 })).headers.get('x-ensemble-semantic-cache') === 'hit',
      { intervalMs: 200 },
    );
    // Meaning outside the text (an image part; an assistant's tool calls): the cache is not in play.
    const image = await call('POST', '/v1/chat/completions', {
      model: 'faq',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: question },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          ],
        },
      ],
    });
    assert.equal(image.status, 200, image.text);
    assert.equal(image.headers.get('x-ensemble-semantic-cache'), null);
  });

  it('stops serving an answer after its TTL', async () => {
    const question = 'Which planet is known as the red planet?';
    assert.equal((await ask(question)).headers.get('x-ensemble-semantic-cache'), 'miss');
    await waitFor(
      'the red planet answer to be kept',
      async () => (await ask(question)).headers.get('x-ensemble-semantic-cache') === 'hit',
      { intervalMs: 200 },
    );
    const before = calls(question);
    await new Promise((resolve) => setTimeout(resolve, 4_500));
    const expired = await ask(question);
    assert.equal(expired.headers.get('x-ensemble-semantic-cache'), 'miss');
    assert.equal(calls(question), before + 1);
  });

  it('never serves one project’s answers to another', async () => {
    const question = 'What is the boiling point of water at sea level?';
    assert.equal((await ask(question)).headers.get('x-ensemble-semantic-cache'), 'miss');
    await waitFor(
      'the boiling point answer to be kept',
      async () => (await ask(question)).headers.get('x-ensemble-semantic-cache') === 'hit',
      { intervalMs: 200 },
    );
    const teamB = { 'x-ensemble-project': 'team-b' };
    const before = calls(question);
    const fromB = await ask(question, {}, teamB);
    assert.equal(fromB.status, 200, fromB.text);
    assert.equal(fromB.headers.get('x-ensemble-semantic-cache'), 'miss');
    assert.equal(calls(question), before + 1, "team B's call went upstream");
    // Its own cache works: the same prompt in team B hits its own answer.
    await waitFor(
      'team B to hit its own answer',
      async () => (await ask(question, {}, teamB)).headers.get('x-ensemble-semantic-cache') === 'hit',
      { intervalMs: 200 },
    );
  });

  it('refuses a semanticCache below the top node, out of bounds, or without an embedding model, naming it', async () => {
    const nested = await call('POST', '/api/routes', {
      name: 'nested',
      policy: {
        strategy: 'fallback',
        targets: [{ strategy: 'single', target: 'upstream-chat', semanticCache: { embeddingModel: 'x' } }],
      },
    });
    assert.equal(nested.status, 400, nested.text);
    assert.match(nested.body.error.message, /body\.policy\.targets\[0\]\.semanticCache: .*top node/);
    const bad = await call('POST', '/api/routes', {
      name: 'bad',
      policy: { strategy: 'single', target: 'upstream-chat', semanticCache: { embeddingModel: 'x', threshold: 2 } },
    });
    assert.equal(bad.status, 400, bad.text);
    assert.match(bad.body.error.message, /semanticCache\.threshold/);
    const notEmbedding = await call('POST', '/api/routes', {
      name: 'chatty',
      policy: { strategy: 'single', target: 'upstream-chat', semanticCache: { embeddingModel: 'upstream-chat' } },
    });
    assert.equal(notEmbedding.status, 400, notEmbedding.text);
    assert.match(
      notEmbedding.body.error.message,
      /^body\.policy\.semanticCache\.embeddingModel: 'upstream-chat' is a chat model, not an embedding model/,
    );
    const unknown = await call('POST', '/api/routes', {
      name: 'chatty',
      policy: { strategy: 'single', target: 'upstream-chat', semanticCache: { embeddingModel: 'nowhere/embedder' } },
    });
    assert.equal(unknown.status, 400, unknown.text);
    assert.match(unknown.body.error.message, /semanticCache\.embeddingModel: names no model/);
  });
});
