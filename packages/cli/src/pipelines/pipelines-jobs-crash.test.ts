import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTestDatabase, testKafkaBrokers, uniqueName, waitFor } from '@ensemble/testkit';
import { startJobsCluster } from '../testing/jobs-cluster.ts';

interface RunJson {
  id: string;
  status: string;
  jobItem: number | null;
  resumed: number;
}
interface ResultJson {
  index: number;
  status: string;
  output: { runId: string; output: unknown } | null;
}

// A `pipeline-run` job whose worker is killed with SIGKILL while its runs are in flight: Kafka delivers
// the items again to the next worker, which must not start second runs. Separate real processes (an
// API `ensemble start --no-worker`, `ensemble worker`s), the shared Kafka broker, a real PostgreSQL.
describe('pipeline-run items redelivered after a worker crash', { timeout: 300_000 }, () => {
  it('start no second run: each item keeps the one run its first delivery started', async (t) => {
    const { database, cluster, first, jobId, runsOf, before, items } = await runsInFlight('pipeline_jobs_crash');
    try {
      first.child.kill('SIGKILL');
      await first.exited;
      const killedAt = Date.now();
      await cluster.startWorker();
      const job = await cluster.waitForJob(
        jobId,
        (current) => current.status !== 'running' && current.status !== 'queued',
        'ended',
        180_000,
      );
      const tookMs = Date.now() - killedAt;
      assert.equal(job.status, 'completed', JSON.stringify(job));
      assert.deepEqual(job.counts, { total: items, succeeded: items, failed: 0, pending: 0 });

      // The truth in `/api/runs?jobId=`: the runs started before the kill, each ended once, none added.
      const after = await runsOf();
      assert.deepEqual(
        after.map((run) => run.id).sort(),
        before.map((run) => run.id).sort(),
        `no second run: ${JSON.stringify(after)}`,
      );
      assert.ok(
        after.every((run) => run.status === 'succeeded'),
        JSON.stringify(after),
      );
      assert.ok(
        after.every((run) => run.resumed >= 1),
        `every run was taken over after the kill: ${JSON.stringify(after)}`,
      );
      const lines = await fetch(`${cluster.api.url}/api/jobs/${jobId}/results`, { headers: cluster.api.auth });
      const results = (await lines.text())
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as ResultJson);
      assert.equal(results.length, items);
      for (const result of results) {
        const run = after.find((candidate) => candidate.id === result.output?.runId);
        assert.ok(run, `item ${result.index}'s result names one of the job's runs`);
        assert.equal(run.jobItem, result.index);
        assert.equal(result.output?.output, `echo: b echo: SLOW:2000 a item ${result.index}`);
      }
      assert.equal(new Set(results.map((result) => result.output?.runId)).size, items, 'a run per item');
      t.diagnostic(`kill → job completed in ${tookMs} ms; runs resumed: ${after.map((run) => run.resumed).join(',')}`);
    } finally {
      await cluster.close();
      await database.drop();
    }
  });

  it('a worker stopped with SIGTERM gives its runs back: the next one takes them over, no run is cancelled', async (t) => {
    const { database, cluster, first, jobId, runsOf, before } = await runsInFlight('pipeline_jobs_handback');
    try {
      const stoppedAt = Date.now();
      assert.equal(await first.stop('SIGTERM'), 0, first.output());
      await cluster.startWorker();
      const job = await cluster.waitForJob(
        jobId,
        (current) => current.status !== 'running' && current.status !== 'queued',
        'ended',
        180_000,
      );
      const tookMs = Date.now() - stoppedAt;
      const lines = await fetch(`${cluster.api.url}/api/jobs/${jobId}/results`, { headers: cluster.api.auth });
      assert.equal(job.status, 'completed', await lines.text());
      const after = await runsOf();
      assert.deepEqual(
        after.map((run) => `${run.id} ${run.status}`).sort(),
        before.map((run) => `${run.id} succeeded`).sort(),
        `the same runs, none cancelled: ${JSON.stringify(after)}`,
      );
      t.diagnostic(
        `SIGTERM → job completed in ${tookMs} ms; runs resumed: ${after.map((run) => run.resumed).join(',')}`,
      );
    } finally {
      await cluster.close();
      await database.drop();
    }
  });
});

/**
 * A cluster (API + one worker) with a 4-item `pipeline-run` job of two slow steps (each answer waits 2 s
 * at the fake upstream), returned once every item's run is in flight — so a stop lands mid-run.
 */
async function runsInFlight(name: string) {
  const database = await createTestDatabase(name);
  const cluster = await startJobsCluster({
    DATABASE_URL: database.url,
    KAFKA_BROKERS: testKafkaBrokers().join(','),
    KAFKA_NAME_PREFIX: `${uniqueName(name).replaceAll('_', '-')}.`,
    PIPELINE_RUN_LEASE_MS: '1500',
  });
  try {
    const created = await cluster.call('POST', '/api/pipelines', {
      name: 'two-slow-steps',
      definition: {
        input: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
        steps: [
          { id: 'a', kind: 'model', model: 'upstream-chat', prompt: 'SLOW:2000 a {{input.text}}' },
          { id: 'b', kind: 'model', model: 'upstream-chat', prompt: 'b {{a}}' },
        ],
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const items = 4;
    const first = await cluster.startWorker();
    const submitted = await cluster.call('POST', '/api/jobs', {
      type: 'pipeline-run',
      pipeline: 'two-slow-steps',
      retry: { maxAttempts: 1 },
      inputs: Array.from({ length: items }, (_, i) => ({ input: { text: `item ${i}` } })),
    });
    assert.equal(submitted.status, 201, JSON.stringify(submitted.body));
    const jobId = submitted.body.id as string;
    const runsOf = async () => (await cluster.call('GET', `/api/runs?jobId=${jobId}&limit=100`)).body.data as RunJson[];
    const before = await waitFor(
      'a run per item in flight',
      async () => {
        const runs = await runsOf();
        return runs.length === items && runs.every((run) => run.status === 'running') ? runs : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 50 },
    );
    return { database, cluster, first, jobId, runsOf, before, items };
  } catch (error) {
    await cluster.close();
    await database.drop();
    throw error;
  }
}
