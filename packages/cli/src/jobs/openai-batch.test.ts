import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { type JobsHarness, startJobsHarness } from '../testing/jobs-harness.ts';

const line = (customId: string, content: string, model = 'fake-chat') =>
  JSON.stringify({
    custom_id: customId,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model, messages: [{ role: 'user', content }] },
  });

// Code written for OpenAI's batch endpoint, run unchanged against Ensemble with the official SDK.
describe('OpenAI Batch API on jobs (official openai SDK)', { timeout: 180_000 }, () => {
  let harness: JobsHarness;
  let openai: OpenAI;
  before(async () => {
    harness = await startJobsHarness({
      bus: 'embedded',
      webhooks: { timeoutMs: 500, maxAttempts: 1, initialDelayMs: 50 },
    });
    await harness.startWorker();
    const base = await harness.listen();
    openai = new OpenAI({
      baseURL: `${base}/v1`,
      apiKey: harness.admin.authorization.slice('Bearer '.length),
      maxRetries: 0,
    });
  });
  after(async () => {
    await harness.close();
  });

  it('uploads a file, runs a batch, and serves its output and error files', async () => {
    const lines = Array.from({ length: 20 }, (_, i) => line(`request-${i}`, i === 4 ? 'FAIL' : `batch ${i}`));
    const file = await openai.files.create({
      file: await toFile(Buffer.from(`${lines.join('\n')}\n`), 'requests.jsonl'),
      purpose: 'batch',
    });
    assert.match(file.id, /^file-/);
    assert.equal(file.purpose, 'batch');
    assert.equal(file.filename, 'requests.jsonl');
    assert.equal((await openai.files.retrieve(file.id)).bytes, file.bytes);
    assert.equal(await (await openai.files.content(file.id)).text(), `${lines.join('\n')}\n`);

    const batch = await openai.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata: { purpose: 'test' },
    });
    assert.match(batch.id, /^batch_/);
    assert.ok(['validating', 'in_progress'].includes(batch.status));
    assert.equal(batch.request_counts?.total, 20);
    let done = batch;
    while (!['completed', 'failed', 'cancelled', 'expired'].includes(done.status)) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      done = await openai.batches.retrieve(batch.id);
    }
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.request_counts, { total: 20, completed: 19, failed: 1 });
    assert.deepEqual(done.metadata, { purpose: 'test' });
    assert.ok(done.completed_at !== null && done.in_progress_at !== null);

    const output = (await (await openai.files.content(done.output_file_id as string)).text()).trim().split('\n');
    assert.equal(output.length, 19);
    const first = JSON.parse(output[0] as string) as {
      custom_id: string;
      response: { status_code: number; body: { choices: Array<{ message: { content: string } }> } };
      error: null;
    };
    assert.equal(first.custom_id, 'request-0');
    assert.equal(first.response.status_code, 200);
    assert.equal(first.response.body.choices[0]?.message.content, 'echo: batch 0');
    const errors = (await (await openai.files.content(done.error_file_id as string)).text()).trim().split('\n');
    assert.equal(errors.length, 1);
    const failed = JSON.parse(errors[0] as string) as {
      custom_id: string;
      response: { status_code: number; body: { error: { code: string } } };
    };
    assert.equal(failed.custom_id, 'request-4');
    assert.equal(failed.response.status_code, 400);
    assert.equal(failed.response.body.error.code, 'upstream_bad_request');
    assert.equal((await openai.files.retrieve(done.output_file_id as string)).purpose, 'batch_output');

    const listed = await openai.batches.list({ limit: 10 });
    assert.ok(listed.data.some((each) => each.id === batch.id));
    // The same batch is a job of the jobs API.
    const job = await harness.job(`job_${batch.id.slice('batch_'.length)}`);
    assert.equal(job.source, 'openai-batch');
  });

  it('cancels a batch', async () => {
    const lines = Array.from({ length: 200 }, (_, i) => line(`slow-${i}`, `SLOW:100 slow ${i}`));
    const file = await openai.files.create({
      file: await toFile(Buffer.from(lines.join('\n')), 'slow.jsonl'),
      purpose: 'batch',
    });
    const batch = await openai.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const cancelled = await openai.batches.cancel(batch.id);
    assert.equal(cancelled.status, 'cancelled');
    assert.ok(cancelled.cancelled_at !== null);
  });

  it('refuses bad input files with the line, as OpenAI errors the SDK raises', async () => {
    const refuse = async (
      text: string,
      pattern: RegExp,
      endpoint: '/v1/chat/completions' | '/v1/embeddings' = '/v1/chat/completions',
    ) => {
      const file = await openai.files.create({ file: await toFile(Buffer.from(text), 'bad.jsonl'), purpose: 'batch' });
      await assert.rejects(
        openai.batches.create({ input_file_id: file.id, endpoint, completion_window: '24h' }),
        (error: unknown) => {
          assert.ok(error instanceof OpenAI.BadRequestError, String(error));
          assert.match(error.message, pattern);
          return true;
        },
      );
    };
    await refuse(`${line('a', 'x')}\n{oops`, /line 2: is not valid JSON/);
    await refuse(`${line('a', 'x')}\n${line('a', 'y')}`, /line 2: custom_id 'a' is used twice/);
    await refuse(`${line('a', 'x')}\n${line('b', 'y', 'other-model')}`, /line 2: body.model must be 'fake-chat'/);
    await refuse(line('a', 'x', 'no-such-model'), /no-such-model/);
    await refuse(line('a', 'x'), /needs an embedding model/, '/v1/embeddings');
    await assert.rejects(
      openai.batches.create({
        input_file_id: 'file-doesnotexist000000000000',
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      }),
      OpenAI.BadRequestError,
    );
    await assert.rejects(openai.batches.retrieve('batch_nope'), OpenAI.NotFoundError);
    await assert.rejects(
      openai.files.create({ file: await toFile(Buffer.from('x'), 'x.jsonl'), purpose: 'fine-tune' }),
      OpenAI.BadRequestError,
    );
  });
});
