import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase, testKafkaBrokers, uniqueName, waitFor } from '@ensemble/testkit';
import { type EnsembleProcess, spawnEnsemble } from '../testing/ensemble-process.ts';

// DNS rebinding, end to end: URLs saved while they resolved to an allowed address (here through an
// instance whose OUTBOUND_ALLOWED_NETWORKS allows loopback) are called by an instance that allows no
// internal range. `localhost` is a DNS name resolving to loopback, as a rebound name would at call
// time. Every outbound path — the model SDKs behind invoke, pipeline steps and job items, the jobs'
// completion webhooks, pipeline `http` steps — must refuse at connect time, with a clear error.
describe('SSRF guard at connect time: SDK calls, pipelines, jobs, webhooks', { timeout: 300_000 }, () => {
  let database: TestDatabase;
  let dir: string;
  let upstream: Server;
  let port = 0;
  let lenient: EnsembleProcess;
  let strict: EnsembleProcess;
  const seen: string[] = [];

  const api = async (on: EnsembleProcess, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${on.url}${path}`, {
      method,
      headers: { ...on.auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    const json = response.headers.get('content-type')?.includes('json') === true && text !== '';
    return { status: response.status, text, body: json ? JSON.parse(text) : undefined };
  };

  before(async () => {
    database = await createTestDatabase('connect_guard');
    dir = await mkdtemp(join(tmpdir(), 'ensemble-connect-guard-'));
    await chmod(dir, 0o755);
    // One fake upstream on loopback: an OpenAI-compatible chat model, a JSON endpoint, a webhook receiver.
    upstream = createServer(async (request, response) => {
      seen.push(`${request.method} ${request.url}`);
      let body = '';
      for await (const chunk of request) body += chunk;
      if (request.url?.endsWith('/chat/completions') === true && body.includes('"stream":true')) {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        for (const content of ['inside ', 'streamed']) {
          const chunk = { id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm' };
          const choice = { index: 0, delta: { content }, finish_reason: null };
          response.write(`data: ${JSON.stringify({ ...chunk, choices: [choice] })}\n\n`);
        }
        response.end('data: [DONE]\n\n');
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      if (request.url?.endsWith(':generateContent') === true) {
        // Gemini's generateContent answer (its SDK sends through the global fetch, scoped onto the guard).
        response.end(
          JSON.stringify({
            candidates: [
              { content: { role: 'model', parts: [{ text: 'inside gemini' }] }, finishReason: 'STOP', index: 0 },
            ],
            usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 2, totalTokenCount: 3 },
          }),
        );
        return;
      }
      if (request.url?.endsWith('/chat/completions') === true) {
        response.end(
          JSON.stringify({
            id: 'c1',
            object: 'chat.completion',
            created: 1,
            model: 'm',
            choices: [{ index: 0, message: { role: 'assistant', content: 'inside answer' }, finish_reason: 'stop' }],
            usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
          }),
        );
        return;
      }
      response.end(JSON.stringify({ data: [], secret: 'internal data' }));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    port = (upstream.address() as AddressInfo).port;
    const shared = {
      DATABASE_URL: database.url,
      KAFKA_BROKERS: testKafkaBrokers().join(','),
      KAFKA_NAME_PREFIX: `${uniqueName('guard').replaceAll('_', '-')}.`,
      PIPELINE_HTTP_ALLOW: `http://localhost:${port}/`,
      MODEL_HEALTH_INTERVAL_MS: '0',
      // One key for both, so the Gemini credential saved through one is readable by the other.
      ENSEMBLE_MASTER_KEY: randomBytes(32).toString('base64'),
    };
    // The lenient instance saves (its worker is off: the strict one runs every job item and webhook).
    lenient = await spawnEnsemble(['start', '--no-worker'], { ...shared, ENSEMBLE_HOME: join(dir, 'lenient') });
    strict = await spawnEnsemble(['start'], {
      ...shared,
      ENSEMBLE_HOME: join(dir, 'strict'),
      OUTBOUND_ALLOWED_NETWORKS: '',
      JOBS_WEBHOOK_MAX_ATTEMPTS: '1',
    });
    const model = await api(lenient, 'POST', '/api/models', {
      name: 'inside/m',
      kind: 'chat',
      provider: 'openai-compatible',
      providerModelId: 'm',
      baseUrl: `http://localhost:${port}/v1`,
      options: { maxRetries: 0 },
    });
    assert.equal(model.status, 201, model.text);
    const credential = await api(lenient, 'POST', '/api/credentials', {
      name: 'gemini-key',
      provider: 'gemini',
      secret: 'AIzaSy-inside-gemini-key',
    });
    assert.equal(credential.status, 201, credential.text);
    const gemini = await api(lenient, 'POST', '/api/models', {
      name: 'inside/gemini',
      kind: 'chat',
      provider: 'gemini',
      providerModelId: 'm',
      baseUrl: `http://localhost:${port}`,
      credential: 'gemini-key',
      options: { maxRetries: 0 },
    });
    assert.equal(gemini.status, 201, gemini.text);
  });
  after(async () => {
    // Both exit cleanly: the guard's connection pools close with them.
    const codes = await Promise.all([lenient?.stop(), strict?.stop()]);
    assert.deepEqual(codes, [0, 0], `${lenient?.output()}\n${strict?.output()}`.slice(-4000));
    upstream?.close();
    await database?.drop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const internal = /'localhost' is (127\.0\.0\.1|::1), an internal address Ensemble does not call/;

  it('invoke: the allowed instance reaches the model; the strict one refuses it when connecting (502, not 500)', async () => {
    const body = { messages: [{ role: 'user', content: 'hi' }] };
    const allowed = await api(lenient, 'POST', '/api/models/inside/m/invoke', body);
    assert.equal(allowed.status, 200, allowed.text);
    assert.equal(allowed.body.message.content, 'inside answer');
    // Streamed through the guard's fetch (undici's, read by the SDK as a stream) where it is allowed.
    const streamed = await api(lenient, 'POST', '/api/models/inside/m/invoke', { ...body, stream: true });
    assert.equal(streamed.status, 200, streamed.text);
    assert.match(streamed.text, /inside /);
    assert.match(streamed.text, /streamed/);
    const before = seen.length;
    const refused = await api(strict, 'POST', '/api/models/inside/m/invoke', body);
    assert.equal(refused.status, 502, refused.text);
    assert.equal(refused.body.error.code, 'upstream_error');
    assert.match(refused.body.error.message, internal);
    assert.doesNotMatch(refused.text, /inside answer/);
    assert.equal(seen.length, before, 'the strict instance never reached the internal upstream');
    // The health probe goes through the guard too.
    const health = await api(strict, 'POST', '/api/models/inside/m/health');
    assert.doesNotMatch(health.text, /"ok":true/);
    assert.match(health.text, internal);
    assert.equal(seen.length, before);
  });

  it('invoke of a Gemini model (its SDK takes no fetch): allowed on one instance, refused at connect time on the other', async () => {
    const body = { messages: [{ role: 'user', content: 'hi' }] };
    const allowed = await api(lenient, 'POST', '/api/models/inside/gemini/invoke', body);
    assert.equal(allowed.status, 200, allowed.text);
    assert.equal(allowed.body.message.content, 'inside gemini');
    const before = seen.length;
    for (const stream of [false, true]) {
      const refused = await api(strict, 'POST', '/api/models/inside/gemini/invoke', { ...body, stream });
      assert.doesNotMatch(refused.text, /inside gemini/);
      assert.match(refused.text, internal);
      if (!stream) {
        assert.equal(refused.status, 502, refused.text);
        assert.equal(refused.body.error.code, 'upstream_error');
      }
    }
    const health = await api(strict, 'POST', '/api/models/inside/gemini/health');
    assert.match(health.text, internal);
    assert.equal(seen.length, before, 'the strict instance never reached the internal upstream');
  });

  it('a pipeline model step and an http step are refused at connect time', async () => {
    const saved = await api(lenient, 'POST', '/api/pipelines', {
      name: 'inside-calls',
      definition: {
        steps: [
          { id: 'fetched', kind: 'http', url: `http://localhost:${port}/data` },
          { id: 'answer', kind: 'model', model: 'inside/m', prompt: 'say {{input.text}}' },
        ],
      },
    });
    assert.equal(saved.status, 201, saved.text);
    const modelOnly = await api(lenient, 'POST', '/api/pipelines', {
      name: 'inside-model',
      definition: { steps: [{ id: 'answer', kind: 'model', model: 'inside/m', prompt: 'say {{input.text}}' }] },
    });
    assert.equal(modelOnly.status, 201, modelOnly.text);
    const allowed = await api(lenient, 'POST', '/api/pipelines/inside-calls/run', { input: { text: 'x' } });
    assert.equal(allowed.status, 200, allowed.text);
    assert.equal(allowed.body.output, 'inside answer');

    const before = seen.length;
    const http = await api(strict, 'POST', '/api/pipelines/inside-calls/run', { input: { text: 'x' } });
    assert.equal(http.status, 502, http.text);
    assert.match(http.body.error.message, /step 'fetched' failed/);
    assert.match(http.body.error.message, internal);
    const model = await api(strict, 'POST', '/api/pipelines/inside-model/run', { input: { text: 'x' } });
    assert.equal(model.status, 502, model.text);
    assert.match(model.body.error.message, /step 'answer' failed/);
    assert.match(model.body.error.message, internal);
    assert.equal(seen.length, before, 'the strict instance never reached the internal upstream');
  });

  it('a job item is refused at connect time, and its completion webhook to 127.0.0.1 too', async () => {
    // Saved through the lenient instance (the strict one refuses 127.0.0.1 when saving); run and
    // delivered by the strict instance's worker.
    const submitted = await api(lenient, 'POST', '/api/jobs', {
      type: 'batch-inference',
      model: 'inside/m',
      inputs: [{ customId: 'a', messages: [{ role: 'user', content: 'hi' }] }],
      retry: { maxAttempts: 1 },
      webhook: { url: `http://127.0.0.1:${port}/hook` },
    });
    assert.equal(submitted.status, 201, submitted.text);
    const id = submitted.body.id as string;
    const before = seen.length;
    const failed = await waitFor(
      'the webhook given up',
      async () => {
        const job = (await api(strict, 'GET', `/api/jobs/${id}`)).body;
        return job.webhook?.status === 'failed' ? job : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 250 },
    );
    assert.equal(failed.status, 'completed_with_errors');
    assert.deepEqual([failed.counts.succeeded, failed.counts.failed], [0, 1]);
    const [line] = (await api(strict, 'GET', `/api/jobs/${id}/results`)).text
      .trim()
      .split('\n')
      .map((each) => JSON.parse(each));
    assert.equal(line.status, 'failed');
    assert.match(line.error.message, internal);
    assert.match(failed.webhook.lastError, /'127\.0\.0\.1' is 127\.0\.0\.1, an internal address/);
    assert.deepEqual(seen.slice(before), [], 'neither the item nor the webhook reached the internal upstream');
  });
});
