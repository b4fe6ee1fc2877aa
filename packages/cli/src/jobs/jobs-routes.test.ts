import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newRouteSchema, newRouteVersionSchema, registerModelSchema } from '@ensemble/core';
import { type JobsHarness, startJobsHarness } from '../testing/jobs-harness.ts';

const chat = (text: string, customId?: string) => ({
  ...(customId === undefined ? {} : { customId }),
  messages: [{ role: 'user', content: text }],
});
const actor = { actor: 'test' };

// A job naming a route: pinned to the route's version at submission, each item run through its policy
// on the real broker and PostgreSQL, as /v1 runs a route.
describe('jobs through routes (Kafka)', { timeout: 180_000 }, () => {
  let harness: JobsHarness;
  before(async () => {
    harness = await startJobsHarness({ bus: 'kafka', itemConcurrency: 8, taskBatchSize: 20 });
    // A chat model whose upstream refuses connections: the route falls back from it.
    await harness.registry.models.register(
      registerModelSchema.parse({
        name: 'fake-down',
        kind: 'chat',
        provider: 'openai-compatible',
        providerModelId: 'fake-down',
        baseUrl: 'http://127.0.0.1:9/v1',
      }),
      actor,
    );
    await harness.routes.create(
      'default',
      newRouteSchema.parse({
        name: 'job-chat',
        policy: { strategy: 'fallback', targets: ['fake-down', 'fake-chat'] },
      }),
      actor,
    );
    await harness.routes.create('default', newRouteSchema.parse({ name: 'job-outer', policy: 'job-chat' }), actor);
    await harness.startWorker();
  });
  after(async () => {
    await harness.close();
  });

  it('runs each item through the route: the fallback answers, the job is pinned to the route version', async () => {
    const inputs = Array.from({ length: 6 }, (_, i) => chat(`routed ${i}`, `r${i}`));
    const submitted = await harness.submit({ type: 'batch-inference', model: 'job-chat', inputs });
    assert.deepEqual(submitted.target, { type: 'route', name: 'job-chat', version: 1, kind: 'chat' });
    // A new version after submission does not change what the job runs.
    await harness.routes.addVersion('default', 'job-chat', newRouteVersionSchema.parse({ policy: 'fake-down' }), actor);
    const done = await harness.waitForStatus(submitted.id, ['completed', 'completed_with_errors'], 120_000);
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.counts, { total: 6, succeeded: 6, failed: 0, pending: 0 });
    const results = await harness.results(submitted.id);
    const first = results[0]?.output as { choices: Array<{ message: { content: string } }> };
    assert.equal(first.choices[0]?.message.content, 'echo: routed 0');
    assert.equal(results[5]?.customId, 'r5');
    // One usage event per item: the route named, the model that answered, two upstream attempts.
    const calls = harness.usage.filter((event) => event.requestId.startsWith(`${submitted.id}:`));
    assert.equal(calls.length, 6);
    for (const call of calls) {
      assert.equal(call.route, 'job-chat');
      assert.equal(call.target, 'fake-chat@1');
      assert.equal(call.attempts, 2);
      assert.equal(call.status, 200);
      assert.deepEqual(
        call.trace?.map((attempt) => [attempt.target, attempt.outcome]),
        [
          ['fake-down', 'failure'],
          ['fake-chat', 'success'],
        ],
      );
    }
    assert.equal(done.usage.inputTokens, 60);
  });

  it('follows a route that targets a route', async () => {
    // job-chat is at version 2 now (only fake-down): through job-outer it is the current version that nests.
    await harness.routes.addVersion(
      'default',
      'job-chat',
      newRouteVersionSchema.parse({ policy: { strategy: 'fallback', targets: ['fake-down', 'fake-chat'] } }),
      actor,
    );
    const submitted = await harness.submit({
      type: 'batch-inference',
      model: 'job-outer',
      inputs: [chat('nested 0'), chat('nested 1')],
    });
    assert.deepEqual(submitted.target, { type: 'route', name: 'job-outer', version: 1, kind: 'chat' });
    const done = await harness.waitForStatus(submitted.id, ['completed', 'completed_with_errors'], 120_000);
    assert.equal(done.status, 'completed');
    const calls = harness.usage.filter((event) => event.requestId.startsWith(`${submitted.id}:`));
    assert.deepEqual(
      calls.map((call) => call.target),
      ['fake-chat@1', 'fake-chat@1'],
    );
  });

  it('refuses, before queuing anything, an unknown name and a route of the wrong kind', async () => {
    const unknown = await harness.request('POST', '/api/jobs', {
      type: 'batch-inference',
      model: 'no-such-route',
      inputs: [chat('x')],
    });
    assert.equal(unknown.status, 400);
    assert.match(JSON.stringify(unknown.body), /body\.model/);
    const wrongKind = await harness.request('POST', '/api/jobs', {
      type: 'embed',
      model: 'job-chat',
      inputs: ['a text'],
    });
    assert.equal(wrongKind.status, 400);
    assert.match(
      JSON.stringify(wrongKind.body),
      /route 'job-chat' is a chat model; an embed job needs an embedding model/,
    );
    const badItem = await harness.request('POST', '/api/jobs', {
      type: 'batch-inference',
      model: 'job-chat',
      inputs: [{ input: 'not messages' }],
    });
    assert.equal(badItem.status, 400);
    assert.match(JSON.stringify(badItem.body), /body\.inputs\[0\]\.messages/);
  });
});
