import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EmbeddedPostgresServer } from '@ensemble/adapters/postgres';
import { createTestDatabase, startOwnKafkaBroker, testKafkaBrokers, uniqueName, waitFor } from '@ensemble/testkit';
import { type JobsCluster, startJobsCluster } from '../testing/jobs-cluster.ts';

/**
 * Every item of the job has exactly one result row, and the job's counts agree. Returns how many
 * model calls were repeated (tasks delivered again after the fault): allowed, and what the unique
 * result per item absorbs.
 */
async function assertExactlyOnce(cluster: JobsCluster, id: string, total: number): Promise<number> {
  const job = await cluster.waitForJob(id, (current) => current.status === 'completed', 'completed', 180_000);
  assert.deepEqual(job.counts, { total, succeeded: total, failed: 0, pending: 0 });
  const rows = await cluster.resultRows(id);
  assert.deepEqual(
    rows,
    { rows: total, items: total, minIndex: 0, maxIndex: total - 1 },
    'one result per item, none lost',
  );
  let repeated = 0;
  for (const calls of cluster.upstream.answered.values()) repeated += Math.max(0, calls - 1);
  return repeated;
}

/** A Kafka name prefix of the test's own, so its topics and groups on the shared broker are its alone. */
const ownPrefix = () => `${uniqueName('jobfault').replaceAll('_', '-')}.`;

// The faults of issue #5, against real processes, a real broker and a real PostgreSQL. Items wait
// 10 ms at the fake upstream and a worker runs 8 at once (≈ 600 items/s), so a fault lands mid-job.
describe('jobs under faults', { timeout: 600_000 }, () => {
  it('a worker killed with SIGKILL mid-job: another finishes it, one result per item', async (t) => {
    const database = await createTestDatabase('jobs_sigkill');
    const cluster = await startJobsCluster({
      DATABASE_URL: database.url,
      KAFKA_BROKERS: testKafkaBrokers().join(','),
      KAFKA_NAME_PREFIX: ownPrefix(),
    });
    try {
      const first = await cluster.startWorker();
      const total = 3_000;
      const id = await cluster.submit(total, (i) => `SLOW:10 sigkill ${i}`);
      await cluster.waitForJob(id, (job) => job.counts.succeeded >= 300, '300 items done');
      first.child.kill('SIGKILL');
      await first.exited;
      const atKill = await cluster.job(id);
      assert.ok(
        atKill.counts.pending > 0,
        `the job was mid-way when the worker died (${atKill.counts.pending} pending)`,
      );
      await cluster.startWorker();
      const repeated = await assertExactlyOnce(cluster, id, total);
      t.diagnostic(`${repeated} calls repeated after the kill`);
      assert.ok(repeated > 0, 'the batches in flight at the kill were run again (so the fault was felt)');
    } finally {
      await cluster.close();
      await database.drop();
    }
  });

  it('two workers racing for partitions while they rebalance: one result per item', async (t) => {
    const database = await createTestDatabase('jobs_rebalance');
    const cluster = await startJobsCluster({
      DATABASE_URL: database.url,
      KAFKA_BROKERS: testKafkaBrokers().join(','),
      KAFKA_NAME_PREFIX: ownPrefix(),
      // Big batches of slow items: when partitions move, batches are in flight on both sides.
      JOBS_TASK_BATCH_SIZE: '100',
    });
    try {
      const first = await cluster.startWorker();
      // Slower items (≈ 400/s per worker), so the job outlasts a second worker's start.
      const total = 5_000;
      const id = await cluster.submit(total, (i) => `SLOW:20 race ${i}`);
      await cluster.waitForJob(id, (job) => job.counts.succeeded >= 200, '200 items done');
      // A second worker joins (partitions move to it mid-batch), then the first leaves (they move back).
      await cluster.startWorker();
      const joined = await cluster.job(id);
      assert.ok(joined.counts.pending > 0, 'the job was mid-way when the second worker joined');
      await cluster.waitForJob(
        id,
        (job) => job.counts.succeeded >= joined.counts.succeeded + 400,
        '400 more items done',
      );
      const beforeLeave = await cluster.job(id);
      assert.ok(beforeLeave.counts.pending > 0, 'the job was mid-way when the first worker left');
      assert.equal(await first.stop('SIGTERM'), 0, first.output());
      t.diagnostic(`${await assertExactlyOnce(cluster, id, total)} calls repeated over the rebalances`);
    } finally {
      await cluster.close();
      await database.drop();
    }
  });

  it('the Kafka broker stopped and restarted mid-job: the job finishes, one result per item', async (t) => {
    const broker = await startOwnKafkaBroker();
    const database = await createTestDatabase('jobs_broker');
    const cluster = await startJobsCluster({
      DATABASE_URL: database.url,
      KAFKA_BROKERS: broker.address,
      KAFKA_CONNECT_TIMEOUT_MS: '1000',
    });
    try {
      await cluster.startWorker();
      const total = 3_000;
      const id = await cluster.submit(total, (i) => `SLOW:10 broker ${i}`);
      await cluster.waitForJob(id, (job) => job.counts.succeeded >= 300, '300 items done');
      await broker.stop();
      const whileDown = await cluster.job(id);
      assert.ok(whileDown.counts.pending > 0, 'the job was mid-way when the broker stopped');
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      await broker.start();
      t.diagnostic(`${await assertExactlyOnce(cluster, id, total)} calls repeated after the broker came back`);
    } finally {
      await cluster.close();
      await database.drop();
      await broker.dispose();
    }
  });

  it('PostgreSQL restarted mid-job: the workers wait for it, then finish, one result per item', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'ensemble-jobs-pg-'));
    await chmod(dir, 0o755);
    const postgres = new EmbeddedPostgresServer({ dataDir: join(dir, 'pg'), port: 0 });
    const { url } = await postgres.start();
    const cluster = await startJobsCluster({
      DATABASE_URL: url,
      DATABASE_CONNECT_TIMEOUT_MS: '2000',
      KAFKA_BROKERS: testKafkaBrokers().join(','),
      KAFKA_NAME_PREFIX: ownPrefix(),
    });
    try {
      await cluster.startWorker();
      const total = 3_000;
      const id = await cluster.submit(total, (i) => `SLOW:10 postgres ${i}`);
      await cluster.waitForJob(id, (job) => job.counts.succeeded >= 300, '300 items done');
      await postgres.stop();
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      await postgres.start();
      await waitFor(
        'the API to reach PostgreSQL again',
        async () => (await cluster.call('GET', `/api/jobs/${id}`)).status === 200,
        {
          timeoutMs: 60_000,
        },
      );
      const after = await cluster.job(id);
      assert.ok(after.counts.pending > 0 || after.status === 'completed', 'the job was read after the restart');
      t.diagnostic(`${await assertExactlyOnce(cluster, id, total)} calls repeated after PostgreSQL came back`);
    } finally {
      await cluster.close();
      await postgres.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
