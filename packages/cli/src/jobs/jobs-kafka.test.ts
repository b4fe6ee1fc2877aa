import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type JobsHarness, startJobsHarness } from '../testing/jobs-harness.ts';

const chat = (text: string) => ({ messages: [{ role: 'user', content: text }] });

// The same code path on the real broker: the relay publishes the request, the planner the tasks,
// the task consumers run them in batches (topics and groups of the test's own on the shared broker).
describe('jobs on Kafka', { timeout: 240_000 }, () => {
  let harness: JobsHarness;
  before(async () => {
    harness = await startJobsHarness({ bus: 'kafka', itemConcurrency: 16, taskBatchSize: 50 });
    await harness.startWorker();
  });
  after(async () => {
    await harness.close();
  });

  it('runs a 500-item batch to one result per item', async () => {
    const inputs = Array.from({ length: 500 }, (_, i) => chat(`kafka item ${i}`));
    const submitted = await harness.submit({ type: 'batch-inference', model: 'fake-chat', inputs });
    const done = await harness.waitForStatus(submitted.id, ['completed', 'completed_with_errors'], 120_000);
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.counts, { total: 500, succeeded: 500, failed: 0, pending: 0 });
    const results = await harness.results(submitted.id);
    assert.deepEqual(
      results.map((line) => line.index),
      Array.from({ length: 500 }, (_, i) => i),
    );
    assert.equal(done.usage.inputTokens, 5_000);
  });

  it('runs a high-priority job ahead of a normal backlog', async () => {
    const backlog = await harness.submit({
      type: 'batch-inference',
      model: 'fake-chat',
      inputs: Array.from({ length: 600 }, (_, i) => chat(`SLOW:40 backlog ${i}`)),
    });
    await harness.waitForStatus(backlog.id, ['running']);
    const urgent = await harness.submit({
      type: 'batch-inference',
      model: 'fake-chat',
      priority: 'high',
      inputs: Array.from({ length: 10 }, (_, i) => chat(`urgent ${i}`)),
    });
    assert.equal(urgent.priority, 'high');
    const urgentDone = await harness.waitForStatus(urgent.id, ['completed'], 120_000);
    const backlogNow = await harness.job(backlog.id);
    assert.notEqual(backlogNow.status, 'completed', 'the high job finished while the backlog was still running');
    const backlogDone = await harness.waitForStatus(backlog.id, ['completed'], 120_000);
    assert.ok(Date.parse(urgentDone.finishedAt as string) < Date.parse(backlogDone.finishedAt as string));
    assert.equal((await harness.results(backlog.id)).length, 600);
  });
});
