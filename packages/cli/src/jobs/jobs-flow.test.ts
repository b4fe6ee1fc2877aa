import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BusMessage, Subscription } from '@ensemble/core';
import { uniqueName, waitFor } from '@ensemble/testkit';
import { type JobsHarness, startJobsHarness } from '../testing/jobs-harness.ts';

const chat = (text: string, customId?: string) => ({
  ...(customId === undefined ? {} : { customId }),
  messages: [{ role: 'user', content: text }],
});

const fastRetry = { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 50 };

describe('jobs on the embedded bus', { timeout: 180_000 }, () => {
  let harness: JobsHarness;
  let observer: Subscription;
  const seen: BusMessage[] = [];
  before(async () => {
    harness = await startJobsHarness({ bus: 'embedded' });
    await harness.startWorker();
    observer = await harness.bus.subscribe({
      groupId: uniqueName('observer'),
      topics: [harness.topics.events, harness.topics.dlq],
      handler: async (message) => {
        seen.push(message);
      },
    });
  });
  after(async () => {
    await observer.close();
    await harness.close();
  });

  it('runs a batch: one result per item, a refused item fails alone, a flaky one is retried; then retry-failed', async () => {
    const inputs = Array.from({ length: 40 }, (_, i) => chat(`item ${i}`, `c${i}`));
    inputs[7] = chat('FAIL please', 'c7');
    inputs[11] = chat('FLAKY:eleven', 'c11');
    const submitted = await harness.submit({ type: 'batch-inference', model: 'fake-chat', inputs, retry: fastRetry });
    assert.equal(submitted.status, 'queued');
    assert.equal(submitted.counts.total, 40);
    const done = await harness.waitForStatus(submitted.id, ['completed', 'completed_with_errors']);
    assert.equal(done.status, 'completed_with_errors');
    assert.deepEqual(done.counts, { total: 40, succeeded: 39, failed: 1, pending: 0 });
    assert.equal(done.usage.inputTokens, 390);
    assert.equal(done.usage.outputTokens, 195);
    assert.ok(Math.abs((done.usage.costUsd ?? 0) - (390 * 1 + 195 * 2) / 1e6) < 1e-9);
    assert.equal(typeof done.durationMs, 'number');

    const results = await harness.results(submitted.id);
    assert.deepEqual(
      results.map((line) => line.index),
      Array.from({ length: 40 }, (_, i) => i),
    );
    const failed = results.filter((line) => line.status === 'failed');
    assert.equal(failed.length, 1);
    assert.equal(failed[0]?.index, 7);
    assert.equal(failed[0]?.customId, 'c7');
    assert.equal(failed[0]?.error?.code, 'upstream_bad_request');
    assert.equal(failed[0]?.attempts, 1, 'a refusal is not retried');
    assert.equal(results[11]?.status, 'succeeded');
    assert.equal(results[11]?.attempts, 2, 'a 503 is retried');
    const first = results[0]?.output as { choices: Array<{ message: { content: string } }> };
    assert.equal(first.choices[0]?.message.content, 'echo: item 0');
    assert.deepEqual(
      (await harness.results(submitted.id, '?status=failed')).map((line) => line.index),
      [7],
    );

    // Every model call left one usage event for the ledger: 40 items, one of them called twice.
    const calls = harness.usage.filter((event) => event.requestId.startsWith(`${submitted.id}:`));
    assert.equal(calls.length, 41);
    const refused = calls.find((event) => event.requestId === `${submitted.id}:7`);
    assert.equal(refused?.status, 400);
    assert.equal(refused?.errorCode, 'upstream_bad_request');
    assert.equal(calls.filter((event) => event.requestId === `${submitted.id}:11`).length, 2);
    const answered = calls.find((event) => event.requestId === `${submitted.id}:0`);
    assert.equal(answered?.target, 'fake-chat@1');
    assert.equal(answered?.endpoint, 'chat');
    assert.equal(answered?.inputTokens, 10);

    // The failed item is on the dead-letter topic, with its error.
    const letter = await waitFor('the dead letter', () =>
      seen.find((message) => message.topic === harness.topics.dlq && message.value.type === 'jobs/item.failed'),
    );
    assert.deepEqual(
      { ...(letter.value.data as Record<string, unknown>), error: undefined },
      { jobId: submitted.id, index: 7, customId: 'c7', round: 1, attempts: 1, error: undefined },
    );
    assert.equal((letter.value.data as { error: { code: string } }).error.code, 'upstream_bad_request');

    // Its events, in order: queued, started, progress, completed.
    const events = await waitFor('the completion event', () => {
      const mine = seen.filter(
        (message) =>
          message.topic === harness.topics.events && (message.value.data as { jobId: string }).jobId === submitted.id,
      );
      return mine.some((message) => message.value.type === 'jobs/job.completed') ? mine : undefined;
    });
    const seqs = events.map((message) => (message.value.data as { seq: number }).seq);
    assert.deepEqual(
      seqs,
      Array.from({ length: seqs.length }, (_, i) => i + 1),
      'numbered 1, 2, 3 … in order',
    );
    assert.equal(events[0]?.value.type, 'jobs/job.queued');
    assert.equal(events[1]?.value.type, 'jobs/job.started');
    assert.equal(events.at(-1)?.value.type, 'jobs/job.completed');
    assert.ok(events.slice(2, -1).every((message) => message.value.type === 'jobs/job.progressed'));

    // retry-failed: the upstream takes the item now; only it runs again.
    const conflict = await harness.request('POST', `/api/jobs/${submitted.id}/cancel`);
    assert.equal(conflict.status, 409, 'a finished job cannot be cancelled');
    harness.upstream.failing = false;
    const calledBefore = harness.upstream.received();
    const retried = await harness.request('POST', `/api/jobs/${submitted.id}/retry-failed`);
    assert.equal(retried.status, 202);
    assert.equal(retried.body.status, 'running');
    assert.equal(retried.body.round, 2);
    const again = await harness.waitForStatus(submitted.id, ['completed', 'completed_with_errors']);
    assert.equal(again.status, 'completed');
    assert.deepEqual(again.counts, { total: 40, succeeded: 40, failed: 0, pending: 0 });
    assert.equal(harness.upstream.received() - calledBefore, 1, 'only the failed item was called again');
    const after = await harness.results(submitted.id);
    assert.equal(after.length, 40);
    assert.equal(after[7]?.status, 'succeeded');
    const twice = await harness.request('POST', `/api/jobs/${submitted.id}/retry-failed`);
    assert.equal(twice.status, 409, 'nothing failed any more');
    harness.upstream.failing = true;
  });

  it('embeds texts in groups; a bad text fails alone', async () => {
    const inputs: unknown[] = Array.from({ length: 10 }, (_, i) => `text number ${i}`);
    inputs[3] = { customId: 'bad', text: 'FAIL this one' };
    const submitted = await harness.submit({ type: 'embed', model: 'fake-embed', inputs, retry: fastRetry });
    const done = await harness.waitForStatus(submitted.id, ['completed', 'completed_with_errors']);
    assert.deepEqual(done.counts, { total: 10, succeeded: 9, failed: 1, pending: 0 });
    const results = await harness.results(submitted.id);
    assert.equal(results.length, 10);
    assert.deepEqual(results[0]?.output, { embedding: ['text number 0'.length, 0, 0.5] });
    assert.equal(results[3]?.status, 'failed');
    assert.equal(results[3]?.customId, 'bad');
  });

  it('takes its inputs from an uploaded JSONL file, and names a malformed line', async () => {
    const upload = async (text: string) => {
      const response = await harness.app.inject({
        method: 'POST',
        url: '/api/artifacts',
        headers: { ...harness.admin, 'content-type': 'application/octet-stream' },
        payload: Buffer.from(text),
      });
      assert.equal(response.statusCode, 201, response.body);
      return (JSON.parse(response.body) as { sha256: string }).sha256;
    };
    const lines = Array.from({ length: 25 }, (_, i) => JSON.stringify(chat(`line ${i}`, `l${i}`)));
    const good = await upload(`${lines.join('\r\n')}\n\n`);
    const submitted = await harness.submit({ type: 'batch-inference', model: 'fake-chat', inputFile: good });
    assert.equal(submitted.counts.total, 25);
    const done = await harness.waitForStatus(submitted.id, ['completed', 'completed_with_errors']);
    assert.equal(done.status, 'completed');
    assert.equal((await harness.results(submitted.id))[24]?.customId, 'l24');

    const before = (await harness.request('GET', '/api/jobs?limit=200')).body.data as unknown[];
    const broken = await upload([lines[0], lines[1], '{"messages": [', lines[3]].join('\n'));
    const refused = await harness.request('POST', '/api/jobs', {
      type: 'batch-inference',
      model: 'fake-chat',
      inputFile: broken,
    });
    assert.equal(refused.status, 400);
    const error = refused.body.error as { message: string; param: string };
    assert.equal(error.param, 'body.inputFile');
    assert.match(error.message, /line 3: is not valid JSON/);
    const noMessages = await upload(`${lines[0]}\n{"customId": "x", "input": "hi"}\n`);
    const wrongShape = await harness.request('POST', '/api/jobs', {
      type: 'batch-inference',
      model: 'fake-chat',
      inputFile: noMessages,
    });
    assert.equal(wrongShape.status, 400);
    assert.match((wrongShape.body.error as { message: string }).message, /inputFile line 2\.messages/);
    const missing = await harness.request('POST', '/api/jobs', {
      type: 'batch-inference',
      model: 'fake-chat',
      inputFile: 'f'.repeat(64),
    });
    assert.equal(missing.status, 400);
    const afterList = (await harness.request('GET', '/api/jobs?limit=200')).body.data as unknown[];
    assert.equal(afterList.length, before.length, 'nothing was queued');
  });

  it('refuses invalid submissions with 400 naming the field, before anything is queued', async () => {
    const before = (await harness.request('GET', '/api/jobs?limit=200')).body.data as unknown[];
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ type: 'batch-inference', model: 'nope', inputs: [chat('x')] }, 'body.model', /nope/],
      [{ type: 'embed', model: 'fake-chat', inputs: ['x'] }, 'body.model', /needs an embedding model/],
      [{ type: 'pipeline-run', pipeline: 'p' }, 'body.inputs', /give either inputs or inputFile/],
      [
        { type: 'batch-inference', model: 'fake-chat', inputs: [chat('x'), { customId: 'y' }] },
        'body.inputs[1].messages',
        /messages/,
      ],
      [
        { type: 'batch-inference', model: 'fake-chat', inputs: [{ ...chat('x'), stream: true }] },
        'body.inputs[0].stream',
        /stream/,
      ],
      [
        { type: 'batch-inference', model: 'fake-chat', inputs: [{ ...chat('x'), model: 'other' }] },
        'body.inputs[0].model',
        /applies to every item/,
      ],
      [
        { type: 'batch-inference', model: 'fake-embed', inputs: [chat('x')] },
        'body.inputs[0].input',
        /embedding model needs/,
      ],
      [{ type: 'batch-inference', model: 'fake-chat' }, 'inputs', /exactly one/],
      [{ type: 'batch-inference', model: 'fake-chat', inputs: [] }, 'inputs', /./],
      [
        {
          type: 'batch-inference',
          model: 'fake-chat',
          inputs: [chat('x')],
          webhook: { url: 'https://u:p@example.com/h' },
        },
        'webhook.url',
        /user name or password/,
      ],
      [
        { type: 'batch-inference', model: 'fake-chat', inputs: [chat('x')], webhook: { url: 'ftp://x' } },
        'webhook.url',
        /http/,
      ],
      [{ type: 'batch-inference', model: 'fake-chat', inputs: [chat('x')], itemTimeoutMs: 5 }, 'itemTimeoutMs', /./],
      [
        {
          type: 'batch-inference',
          model: 'fake-chat',
          inputs: [chat('x')],
          retry: { initialDelayMs: 5000, maxDelayMs: 10 },
        },
        'retry.maxDelayMs',
        /initialDelayMs/,
      ],
      [{ type: 'batch-inference', model: 'fake-chat', inputs: [chat('x')], priority: 'urgent' }, 'priority', /./],
    ];
    for (const [body, param, message] of cases) {
      const response = await harness.request('POST', '/api/jobs', body);
      assert.equal(response.status, 400, `${JSON.stringify(body)} → ${JSON.stringify(response.body)}`);
      const error = response.body.error as { param: string | null; message: string };
      assert.ok(error.param?.includes(param), `${param} in ${error.param} (${error.message})`);
      assert.match(error.message, message);
    }
    const afterList = (await harness.request('GET', '/api/jobs?limit=200')).body.data as unknown[];
    assert.equal(afterList.length, before.length, 'nothing was queued');
  });

  it('answers the same job for the same idempotency key, and refuses the key for another request', async () => {
    const body = { type: 'batch-inference', model: 'fake-chat', inputs: [chat('idempotent')] };
    const first = await harness.request('POST', '/api/jobs', body, { 'idempotency-key': 'key-1' });
    assert.equal(first.status, 201);
    const second = await harness.request('POST', '/api/jobs', body, { 'idempotency-key': 'key-1' });
    assert.equal(second.status, 200);
    assert.equal(second.headers['idempotent-replayed'], 'true');
    assert.equal(second.body.id, first.body.id);
    const inBody = await harness.request('POST', '/api/jobs', { ...body, idempotencyKey: 'key-1' });
    assert.equal(inBody.body.id, first.body.id, 'the key may come in the body too');
    const other = await harness.request(
      'POST',
      '/api/jobs',
      { ...body, inputs: [chat('else')] },
      { 'idempotency-key': 'key-1' },
    );
    assert.equal(other.status, 409);
    const mismatch = await harness.request(
      'POST',
      '/api/jobs',
      { ...body, idempotencyKey: 'a' },
      { 'idempotency-key': 'b' },
    );
    assert.equal(mismatch.status, 400);
    await harness.waitForStatus(first.body.id as string, ['completed']);
    assert.equal(harness.upstream.answered.get('idempotent'), 1, 'one job, one call');
  });

  it('lists jobs newest first, with filters and a cursor', async () => {
    const a = await harness.submit({ type: 'embed', model: 'fake-embed', inputs: ['list a'] });
    const b = await harness.submit({ type: 'embed', model: 'fake-embed', inputs: ['list b'] });
    const page = await harness.request('GET', '/api/jobs?limit=1&type=embed');
    const data = page.body.data as Array<{ id: string }>;
    assert.deepEqual(
      data.map((job) => job.id),
      [b.id],
    );
    const next = await harness.request('GET', `/api/jobs?limit=1&type=embed&after=${page.body.nextCursor}`);
    assert.deepEqual(
      (next.body.data as Array<{ id: string }>).map((job) => job.id),
      [a.id],
    );
    const cancelled = await harness.request('GET', '/api/jobs?status=cancelled');
    assert.ok((cancelled.body.data as Array<{ status: string }>).every((job) => job.status === 'cancelled'));
    assert.equal((await harness.request('GET', '/api/jobs?after=garbage')).status, 400);
    assert.equal((await harness.request('GET', '/api/jobs/job_doesNotExist00000000')).status, 404);
    assert.equal((await harness.request('GET', '/api/jobs/nope')).status, 400);
  });
});

// A worker with few slots and small batches, so a job is mid-way for long enough to cancel it.
describe('cancelling a job on the embedded bus', { timeout: 120_000 }, () => {
  let harness: JobsHarness;
  before(async () => {
    harness = await startJobsHarness({ bus: 'embedded', itemConcurrency: 4, taskBatchSize: 5 });
    await harness.startWorker();
  });
  after(async () => {
    await harness.close();
  });

  it('cancels a running job: items not yet run never are, and it stays cancelled', async () => {
    const inputs = Array.from({ length: 60 }, (_, i) => chat(`SLOW:200 cancel ${i}`));
    const submitted = await harness.submit({ type: 'batch-inference', model: 'fake-chat', inputs });
    await waitFor('some results', async () => (await harness.job(submitted.id)).counts.succeeded > 0, {
      timeoutMs: 30_000,
    });
    const cancelled = await harness.request('POST', `/api/jobs/${submitted.id}/cancel`);
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.status, 'cancelled');
    assert.equal((await harness.request('POST', `/api/jobs/${submitted.id}/cancel`)).status, 200, 'idempotent');
    // In-flight calls finish and are recorded; then nothing more runs.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const settled = await harness.job(submitted.id);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const later = await harness.job(submitted.id);
    assert.equal(later.status, 'cancelled');
    assert.equal(later.counts.succeeded, settled.counts.succeeded, 'no item ran after the cancellation settled');
    assert.ok(later.counts.succeeded < 60, `${later.counts.succeeded} of 60 ran`);
    assert.equal(later.counts.pending, 60 - later.counts.succeeded);
    const results = await harness.results(submitted.id);
    assert.equal(results.length, later.counts.succeeded);
  });
});
