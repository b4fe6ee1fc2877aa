import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EnsembleError, PipelineDefinition, StepRecord } from '@ensemble/core';
import { createTestDatabase, type TestDatabase } from '@ensemble/testkit';
import { createDatabase, type Database } from '../create-database.ts';
import { runMigrations } from '../migration-runner.ts';
import { PostgresPipelineRepository } from './postgres-pipeline-repository.ts';
import { PostgresRunStore } from './postgres-run-store.ts';

const definition = (template: string): PipelineDefinition => ({ steps: [{ id: 'a', kind: 'prompt', template }] });

function step(path: string, status: StepRecord['status'], output: unknown): StepRecord {
  return {
    path,
    parentPath: null,
    stepId: path,
    kind: 'prompt',
    status,
    attempt: 1,
    input: { email: 'ada@example.com', q: 'x' },
    output,
    model: 'local/m@1',
    inputTokens: 3,
    outputTokens: 2,
    costUsd: 0.5,
    latencyMs: 1.5,
    error: null,
    startedAt: new Date().toISOString(),
    finishedAt: status === 'running' ? null : new Date().toISOString(),
    cached: false,
  };
}

describe('pipelines and runs in PostgreSQL', { timeout: 60_000 }, () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let pipelines: PostgresPipelineRepository;

  before(async () => {
    testDatabase = await createTestDatabase('pipelines_store');
    database = createDatabase({ url: testDatabase.url, poolSize: 4 });
    await runMigrations(database);
    pipelines = new PostgresPipelineRepository(database.pool);
  });
  after(async () => {
    await database?.close();
    await testDatabase?.drop();
  });

  it('keeps versions immutable and resolves names, versions and aliases', async () => {
    await pipelines.create('default', 'p', definition('one'), 'first', 'test');
    const second = await pipelines.addVersion('default', 'p', definition('two'), undefined, 'test');
    assert.equal(second.version, 2);
    await assert.rejects(
      pipelines.create('default', 'p', definition('x'), '', 'test'),
      (error: EnsembleError) => error.code === 'conflict',
    );
    assert.equal((await pipelines.resolve('default', 'p'))?.version, 2, 'the newest without production');
    await pipelines.setAlias('default', 'p', 'production', 1);
    assert.equal((await pipelines.resolve('default', 'p'))?.version, 1, 'production when set');
    assert.equal((await pipelines.resolve('default', 'p@2'))?.version, 2);
    assert.equal(await pipelines.resolve('default', 'p:staging'), undefined);
    assert.deepEqual((await pipelines.get('default', 'p'))?.aliases, { production: 1 });
    await assert.rejects(pipelines.setAlias('default', 'p', 'staging', 9), /has no version 9/);
    await assert.rejects(
      database.pool.query("update pipeline_versions set description = 'changed' where name = 'p'"),
      /pipeline versions are immutable/,
    );
    await pipelines.setRollout('default', 'p', { canary: { version: 2, percent: 10 } });
    assert.deepEqual((await pipelines.get('default', 'p'))?.rollout, { canary: { version: 2, percent: 10 } });
  });

  it('records runs with redacted traces, serves checkpoints while running, clears them at the end', async () => {
    const store = new PostgresRunStore(database.pool, { owner: 'a', leaseMs: 60_000, redactKeys: ['email'] });
    await store.create({
      id: 'run_aaaaaaaaaaaaaaaaaaaa',
      projectId: 'default',
      pipeline: 'p',
      version: 2,
      source: 'api',
      keyId: null,
      input: { email: 'x@y', n: 1 },
    });
    const journal = await store.journal('run_aaaaaaaaaaaaaaaaaaaa');
    await journal.stepStarted(step('a', 'running', null));
    await journal.stepFinished(step('a', 'succeeded', { email: 'secret@example.com', answer: 42 }));
    // A second journal (as after a restart) sees the checkpoint, unredacted.
    const reopened = await store.journal('run_aaaaaaaaaaaaaaaaaaaa');
    assert.deepEqual(reopened.finished('a')?.output, { email: 'secret@example.com', answer: 42 });
    assert.equal(reopened.finished('b'), undefined);
    const traced = await store.get('default', 'run_aaaaaaaaaaaaaaaaaaaa');
    assert.deepEqual(traced?.input, { email: '[redacted]', n: 1 });
    assert.deepEqual(traced?.steps[0]?.output, { email: '[redacted]', answer: 42 });
    assert.deepEqual(traced?.steps[0]?.input, { email: '[redacted]', q: 'x' });

    await store.finish('run_aaaaaaaaaaaaaaaaaaaa', { status: 'succeeded', output: 42, error: null, latencyMs: 9 });
    const finished = await store.get('default', 'run_aaaaaaaaaaaaaaaaaaaa');
    assert.equal(finished?.status, 'succeeded');
    assert.equal(finished?.inputTokens, 3);
    assert.equal(finished?.costUsd, 0.5);
    const { rows } = await database.pool.query('select checkpoint from pipeline_run_steps where run_id = $1', [
      'run_aaaaaaaaaaaaaaaaaaaa',
    ]);
    assert.deepEqual(rows, [{ checkpoint: null }], 'checkpoints are cleared when the run ends');
    assert.equal(await store.sweep(1), 0, 'kept within the retention');
    await database.pool.query("update pipeline_runs set finished_at = now() - interval '3 days'");
    assert.equal(await store.sweep(2), 1);
  });

  it('lets another process claim a run whose lease lapsed, once, and never the runs a process is running', async () => {
    const dead = new PostgresRunStore(database.pool, { owner: 'dead', leaseMs: 100 });
    const alive = new PostgresRunStore(database.pool, { owner: 'alive', leaseMs: 60_000 });
    const other = new PostgresRunStore(database.pool, { owner: 'other', leaseMs: 60_000 });
    const run = {
      projectId: 'default',
      pipeline: 'p',
      version: 1,
      source: 'api' as const,
      keyId: null,
      input: { n: 1 },
    };
    await dead.create({ ...run, id: 'run_bbbbbbbbbbbbbbbbbbbb' });
    await dead.create({ ...run, id: 'run_cccccccccccccccccccc' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const restarted = new PostgresRunStore(database.pool, { owner: 'restarted', leaseMs: 60_000 });
    const mine = await restarted.claimInterrupted(10, ['run_cccccccccccccccccccc']);
    assert.deepEqual(
      mine.map((claimed) => claimed.id),
      ['run_bbbbbbbbbbbbbbbbbbbb'],
      'the running one is not re-claimed',
    );
    const [first, second] = await Promise.all([alive.claimInterrupted(10, []), other.claimInterrupted(10, [])]);
    const claimedIds = [...first, ...second].map((claimed) => claimed.id);
    assert.deepEqual(claimedIds, ['run_cccccccccccccccccccc'], 'one claimer each');
    assert.deepEqual([...first, ...second][0]?.input, { n: 1 });
  });

  it('keys a job item attempt to one run: found again, taken over once its lease lapsed, freed once cancelled', async () => {
    const dead = new PostgresRunStore(database.pool, { owner: 'crashed', leaseMs: 100 });
    const next = new PostgresRunStore(database.pool, { owner: 'next', leaseMs: 60_000 });
    const other = new PostgresRunStore(database.pool, { owner: 'racer', leaseMs: 60_000 });
    const run = {
      projectId: 'default',
      pipeline: 'p',
      version: 1,
      source: 'job' as const,
      job: { id: 'job_x', item: 3 },
      keyId: null,
      input: { n: 3 },
      jobKey: 'job_x:3:1:1',
    };
    assert.equal(await dead.createJobItemRun({ ...run, id: 'run_jjjjjjjjjjjjjjjjjjj1' }), true);
    assert.equal(await next.createJobItemRun({ ...run, id: 'run_jjjjjjjjjjjjjjjjjjj2' }), false, 'the key is taken');
    const live = await next.jobItemRun(run.jobKey);
    assert.equal(live?.id, 'run_jjjjjjjjjjjjjjjjjjj1');
    assert.equal(live?.status, 'running');
    assert.equal(await next.adopt('run_jjjjjjjjjjjjjjjjjjj1'), undefined, 'not while its lease runs');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await next.jobItemRun(run.jobKey))?.leaseLive, false);
    const [mine, theirs] = await Promise.all([
      next.adopt('run_jjjjjjjjjjjjjjjjjjj1'),
      other.adopt('run_jjjjjjjjjjjjjjjjjjj1'),
    ]);
    assert.equal([mine, theirs].filter((claimed) => claimed !== undefined).length, 1, 'taken over once');
    assert.deepEqual((mine ?? theirs)?.input, { n: 3 });
    const owner = mine === undefined ? other : next;
    await owner.releaseJobItemKey('run_jjjjjjjjjjjjjjjjjjj1');
    assert.equal((await next.jobItemRun(run.jobKey))?.id, 'run_jjjjjjjjjjjjjjjjjjj1', 'a running run keeps its key');
    await owner.finish('run_jjjjjjjjjjjjjjjjjjj1', {
      status: 'cancelled',
      output: null,
      error: { code: 'request_timeout', message: 'the run was cancelled' },
      latencyMs: 1,
    });
    await owner.releaseJobItemKey('run_jjjjjjjjjjjjjjjjjjj1');
    assert.equal(await next.jobItemRun(run.jobKey), undefined);
    assert.equal(await next.createJobItemRun({ ...run, id: 'run_jjjjjjjjjjjjjjjjjjj3' }), true, 'a new run takes it');
    const listed = await next.list('default', { limit: 10, jobId: 'job_x' });
    assert.deepEqual(listed.items.map((item) => `${item.id} ${item.status}`).sort(), [
      'run_jjjjjjjjjjjjjjjjjjj1 cancelled',
      'run_jjjjjjjjjjjjjjjjjjj3 running',
    ]);
  });

  it('lets go of a run given back: not renewed by its owner, taken over at once by another process', async () => {
    const leaving = new PostgresRunStore(database.pool, { owner: 'leaving', leaseMs: 60_000 });
    const next = new PostgresRunStore(database.pool, { owner: 'next-worker', leaseMs: 60_000 });
    await leaving.createJobItemRun({
      id: 'run_kkkkkkkkkkkkkkkkkkk1',
      projectId: 'default',
      pipeline: 'p',
      version: 1,
      source: 'job',
      job: { id: 'job_y', item: 0 },
      keyId: null,
      input: { n: 0 },
      jobKey: 'job_y:0:1:1',
    });
    assert.equal(await next.adopt('run_kkkkkkkkkkkkkkkkkkk1'), undefined, 'leased: not taken');
    await next.release('run_kkkkkkkkkkkkkkkkkkk1');
    assert.equal((await next.jobItemRun('job_y:0:1:1'))?.leaseLive, true, 'only its owner lets it go');
    await leaving.release('run_kkkkkkkkkkkkkkkkkkk1');
    await leaving.renewLeases();
    const found = await next.jobItemRun('job_y:0:1:1');
    assert.equal(found?.status, 'running');
    assert.equal(found?.leaseLive, false, 'the lease is not renewed once let go');
    assert.deepEqual((await next.adopt('run_kkkkkkkkkkkkkkkkkkk1'))?.input, { n: 0 });
    assert.equal((await next.get('default', 'run_kkkkkkkkkkkkkkkkkkk1'))?.resumed, 1);
  });
});
