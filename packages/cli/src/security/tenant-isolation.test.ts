import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { openSecurityHarness, type SecurityHarness } from '../testing/security-harness.ts';

/** What project B holds; project A's keys must never see any of it. */
interface Secrets {
  model: string;
  route: string;
  credential: string;
  keyId: string;
  jobId: string;
  fileId: string;
  batchId: string;
  artifact: string;
  collection: string;
  pipeline: string;
  runId: string;
  userId: string;
}

// Tenant isolation, attacked over HTTP: every documented route, called with project A's strongest key
// (owner) and project B's ids and names. Each must answer 404 (never 403, never B's data).
describe('tenant isolation: project A against project B', { timeout: 240_000 }, () => {
  let harness: SecurityHarness;
  let b: Secrets;

  before(async () => {
    harness = await openSecurityHarness('tenancy');
    const owner = harness.keys.b.owner;
    const must = async (what: string, method: string, path: string, body: unknown, status = 201) => {
      const answer = await harness.call(method, path, owner, body);
      assert.equal(answer.status, status, `${what}: ${answer.text}`);
      return answer.body;
    };
    await must('credential', 'POST', '/api/credentials', { name: 'b-secret-cred', provider: 'openai', secret: 'sk-b' });
    await must('model', 'POST', '/api/models', {
      name: 'bsecret/model',
      kind: 'chat',
      provider: 'openai-compatible',
      providerModelId: 'x',
      baseUrl: 'http://127.0.0.1:9/v1',
    });
    await must('alias', 'PUT', `/api/models/${encodeURIComponent('bsecret/model')}/aliases/prod`, { version: 1 }, 200);
    await must('route', 'POST', '/api/routes', {
      name: 'bsecret-route',
      policy: { strategy: 'single', target: 'bsecret/model' },
    });
    await must('collection', 'POST', '/api/collections', { name: 'bsecret-docs', dimension: 3, metric: 'cosine' });
    await must('pipeline', 'POST', '/api/pipelines', {
      name: 'bsecret-pipe',
      definition: { steps: [{ id: 'hello', kind: 'prompt', template: 'Hello {{input.name}}' }] },
    });
    const run = await must('run', 'POST', '/api/pipelines/bsecret-pipe/run', { input: { name: 'B' } }, 200);
    const job = await must('job', 'POST', '/api/jobs', {
      type: 'batch-inference',
      model: 'bsecret/model',
      inputs: [{ customId: 'q', messages: [{ role: 'user', content: 'hi' }] }],
    });
    const form = new FormData();
    form.append('purpose', 'batch');
    const line = {
      custom_id: 'q',
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: 'bsecret/model', messages: [{ role: 'user', content: 'hi' }] },
    };
    form.append('file', new Blob([`${JSON.stringify(line)}\n`]), 'b.jsonl');
    const uploaded = await fetch(`${harness.ensemble.url}/v1/files`, { method: 'POST', headers: owner, body: form });
    assert.equal(uploaded.status, 200, await uploaded.clone().text());
    const file = (await uploaded.json()) as { id: string };
    const batch = await must(
      'batch',
      'POST',
      '/v1/batches',
      { input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' },
      200,
    );
    const bytes = Buffer.from('project B model weights');
    const artifact = await fetch(`${harness.ensemble.url}/api/artifacts`, {
      method: 'POST',
      headers: { ...owner, 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    assert.equal(artifact.status, 201, await artifact.clone().text());
    b = {
      model: 'bsecret/model',
      route: 'bsecret-route',
      credential: 'b-secret-cred',
      keyId: harness.keyIds.b.viewer,
      jobId: job.id,
      fileId: file.id,
      batchId: batch.id,
      artifact: createHash('sha256').update(bytes).digest('hex'),
      collection: 'bsecret-docs',
      pipeline: 'bsecret-pipe',
      runId: run.runId,
      userId: harness.userIds.b.viewer,
    };
  });
  after(() => harness?.close());

  /** A value for a path parameter from `things` (B's, or look-alikes that never existed), by route family and name. */
  const valueFor = (things: Secrets, path: string, name: string): string => {
    if (name === 'sha256') return things.artifact;
    if (name === 'version') return '1';
    if (name === 'alias') return 'prod';
    if (path.startsWith('/api/users')) return things.userId;
    if (path.startsWith('/api/keys') || path.startsWith('/api/limits/keys')) return things.keyId;
    if (path.startsWith('/api/jobs')) return things.jobId;
    if (path.startsWith('/v1/files')) return things.fileId;
    if (path.startsWith('/v1/batches')) return things.batchId;
    if (path.startsWith('/api/projects')) return things === b ? 'team-b' : 'team-ghost';
    if (path.startsWith('/api/credentials')) return things.credential;
    if (path.startsWith('/api/routes')) return encodeURIComponent(things.route);
    if (path.startsWith('/api/collections') || path.startsWith('/pinecone')) return things.collection;
    if (path.startsWith('/api/pipelines')) return encodeURIComponent(things.pipeline);
    if (path.startsWith('/api/runs')) return things.runId;
    return encodeURIComponent(things.model);
  };

  /** Ids of the same shape as B's that never existed anywhere. */
  const ghostOf = (secrets: Secrets): Secrets => ({
    model: 'ghost/model',
    route: 'ghost-route',
    credential: 'ghost-cred',
    keyId: `${secrets.keyId.slice(0, -4)}ZZZZ`,
    jobId: `${secrets.jobId.slice(0, -4)}ZZZZ`,
    fileId: `${secrets.fileId.slice(0, -4)}ZZZZ`,
    batchId: `${secrets.batchId.slice(0, -4)}ZZZZ`,
    artifact: '0'.repeat(64),
    collection: 'ghost-docs',
    pipeline: 'ghost-pipe',
    runId: `${secrets.runId.slice(0, -4)}ZZZZ`,
    userId: `${secrets.userId.slice(0, -4)}ZZZZ`,
  });

  /** B's identifiers in an answer, other than those the request itself carried. */
  const leaks = (text: string, request = '') =>
    Object.values(b).filter(
      (secret) =>
        (text.includes(secret) || text.includes(encodeURIComponent(secret))) &&
        !request.includes(secret) &&
        !request.includes(encodeURIComponent(secret)),
    );

  /** An answer with the caller's own values and the request id taken out, to compare two answers. */
  const shapeOf = (answer: { status: number; body: unknown }, values: Secrets) => {
    let text = JSON.stringify(answer.body ?? null);
    for (const value of Object.values(values)) {
      text = text.replaceAll(value, '<id>').replaceAll(encodeURIComponent(value), '<id>');
    }
    // OpenAI's batch ids are job ids (`batch_x` is `job_x`), which the answers name.
    text = text.replaceAll(values.batchId.replace('batch_', 'job_'), '<id>');
    return {
      status: answer.status,
      body: text
        .replaceAll(/"request_id":"[^"]*"/g, '')
        .replaceAll('team-b', '<id>')
        .replaceAll('team-ghost', '<id>'),
    };
  };

  it('answers every route naming B’s resources exactly as for ids that never existed (404), and lists none', async () => {
    const ghost = ghostOf(b);
    const operations = await harness.operations();
    const wrong: string[] = [];
    let named = 0;
    let lists = 0;
    // A's owner as an API key and as a signed-in console user (session cookie and CSRF header).
    for (const [operation, a] of operations.flatMap((operation) => [
      [operation, harness.keys.a.owner] as const,
      // The Pinecone-compatible API takes only keys: a cookie there is no credential at all (401).
      ...(operation.path.startsWith('/pinecone/') ? [] : [[operation, harness.sessions.a.owner] as const]),
    ])) {
      const hasIds = /\{\w+\}/.test(operation.path);
      const urlOf = (things: Secrets) =>
        operation.path.replaceAll(/\{(\w+)\}/g, (_, name: string) => valueFor(things, operation.path, name));
      const body = operation.method === 'GET' || operation.method === 'DELETE' ? undefined : bodyFor(operation.path);
      const url = `${urlOf(b)}${operation.path.endsWith('/vectors/fetch') ? '?ids=v' : ''}`;
      const answer = await harness.call(operation.method, url, a, body);
      if (answer.status >= 500) wrong.push(`${operation.method} ${url}: ${answer.status} ${answer.text}`);
      const leaked = leaks(answer.text, url);
      if (leaked.length > 0) wrong.push(`${operation.method} ${url}: ${answer.status} shows ${leaked.join(', ')}`);
      if (!hasIds) {
        lists += 1;
        continue;
      }
      named += 1;
      if (answer.status !== 404)
        wrong.push(`${operation.method} ${url}: ${answer.status}, expected 404: ${answer.text}`);
      const control = await harness.call(
        operation.method,
        `${urlOf(ghost)}${operation.path.endsWith('/vectors/fetch') ? '?ids=v' : ''}`,
        a,
        body,
      );
      const [seen, never] = [shapeOf(answer, b), shapeOf(control, ghost)];
      if (JSON.stringify(seen) !== JSON.stringify(never)) {
        wrong.push(
          `${operation.method} ${url}: tells B's id from a made-up one: ${JSON.stringify(seen)} vs ${JSON.stringify(never)}`,
        );
      }
    }
    assert.deepEqual(wrong, []);
    console.log(
      `tenant isolation: ${operations.length} routes × key and session (${named} calls naming B's ids, each against a made-up id; ${lists} without ids)`,
    );
  });

  it('does not let A reach B through a body, a header or a reference', async () => {
    const a = harness.keys.a.owner;
    const ghost = ghostOf(b);
    const message = [{ role: 'user', content: 'hi' }];
    /** A request naming B's things answers exactly as one naming things that never existed. */
    const alike = async (method: string, path: string, make: (things: Secrets) => unknown, headers = a) => {
      const seen = await harness.call(method, path, headers, make(b));
      const never = await harness.call(method, path, headers, make(ghost));
      assert.deepEqual(shapeOf(seen, b), shapeOf(never, ghost), `${method} ${path}`);
      assert.deepEqual(leaks(seen.text, JSON.stringify(make(b))), []);
    };
    await alike('POST', '/v1/chat/completions', (t) => ({ model: t.model, messages: message }));
    await alike('POST', '/v1/chat/completions', (t) => ({ model: `${t.model}:prod`, messages: message }));
    await alike('POST', '/v1/chat/completions', (t) => ({ model: t.route, messages: message }));
    await alike('POST', '/v1/embeddings', (t) => ({ model: t.model, input: 'x' }));
    await alike('POST', '/v1/responses', (t) => ({ model: t.model, input: 'hi' }));
    await alike('POST', '/v1/responses', (t) => ({ model: t.route, input: 'hi', stream: true }));
    await alike('POST', '/api/jobs', (t) => ({
      type: 'batch-inference',
      model: t.model,
      inputs: [{ customId: 'q', messages: message }],
    }));
    await alike('POST', '/api/jobs', () => ({ type: 'batch-inference', model: 'x', inputFile: b.artifact }));
    await alike('POST', '/v1/batches', (t) => ({
      input_file_id: t.fileId,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    }));
    await alike('POST', '/api/routes', (t) => ({ name: 'a-route', policy: { strategy: 'single', target: t.model } }));
    // A credential is looked up in the model's own project when it is used, never in another.
    // A credential is looked up in the model's own project when it is used, never in another: naming
    // B's is the same as naming one that does not exist.
    for (const [name, credential] of [
      ['a/m1', b.credential],
      ['a/m2', ghost.credential],
    ]) {
      const registered = await harness.call('POST', '/api/models', a, {
        name,
        kind: 'chat',
        provider: 'openai',
        providerModelId: 'x',
        credential,
      });
      assert.equal(registered.status, 201, registered.text);
    }
    for (const project of ['team-b', 'team-ghost']) {
      for (const caller of [a, harness.sessions.a.owner]) {
        const answer = await harness.call('GET', '/api/models', { ...caller, 'x-ensemble-project': project });
        assert.equal(answer.status, 404, answer.text);
      }
    }
    // A console user of B signed in is a user of B only: A's project does not exist for it.
    const fromB = await harness.call('GET', '/api/models', {
      ...harness.sessions.b.owner,
      'x-ensemble-project': 'default',
    });
    assert.equal(fromB.status, 404, fromB.text);
    const usage = await harness.call('GET', '/api/usage/records', a);
    assert.equal(usage.status, 200);
    assert.deepEqual(leaks(usage.text), []);
  });
});

/** A plausible body for a write, naming B's things where a body names anything. */
function bodyFor(path: string): unknown {
  if (path === '/api/limits/keys/{id}') return { requestsPerMinute: 1 };
  if (path === '/api/users/{id}/role') return { role: 'viewer' };
  if (path.startsWith('/api/pipelines/') && path.endsWith('/versions')) {
    return { definition: { steps: [{ id: 'hello', kind: 'prompt', template: 'x' }] } };
  }
  if (path.startsWith('/api/pipelines/') && path.endsWith('/run')) return { input: { name: 'A' } };
  if (path.endsWith('/documents')) return { id: 'd', type: 'text/plain', text: 'hello' };
  if (path.endsWith('/vectors/upsert')) return { vectors: [{ id: 'v', values: [1, 0, 0] }] };
  if (path.endsWith('/query')) return { vector: [1, 0, 0], topK: 1 };
  if (path.endsWith('/vectors/update')) return { id: 'v', values: [1, 0, 0] };
  if (path.endsWith('/vectors')) return { vectors: [{ id: 'v', values: [1, 0, 0] }] };
  if (path.endsWith('/vectors/delete')) return { ids: ['v'] };
  if (path.endsWith('/search')) return { vector: [1, 0, 0], topK: 1 };
  if (path === '/api/models/{name}') return { description: 'x' };
  if (path === '/api/routes/{name}') return { currentVersion: 1 };
  if (path === '/api/routes/{name}/versions') return { policy: 'bsecret/model' };
  if (path.endsWith('/aliases')) return { prod: 1 };
  if (path.includes('/aliases/')) return { version: 1 };
  if (path.endsWith('/versions')) return { providerModelId: 'y' };
  if (path.endsWith('/invoke')) return { messages: [{ role: 'user', content: 'hi' }] };
  return {};
}
