import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { EnsembleError } from '@ensemble/core';
import { assertFitsInMemory } from './memory-guard.ts';
import { ReplicaPool, type ReplicaPoolOptions } from './replica-pool.ts';

const fixture = new URL('./replica-pool.fixture.ts', import.meta.url).href;

function start(overrides: Partial<ReplicaPoolOptions> = {}, backendOptions: unknown = {}) {
  return ReplicaPool.start({
    name: 'local/test',
    entry: new URL('./replica-entry.ts', import.meta.url),
    workerData: { backend: fixture, options: backendOptions },
    replicas: 2,
    concurrencyPerReplica: 1,
    maxQueue: 2,
    restartDelayMs: 10,
    ...overrides,
  });
}

// Bounded: a pool that never settles must fail here, not hold the whole test run.
describe('ReplicaPool', { timeout: 120_000 }, () => {
  const pools: ReplicaPool[] = [];
  after(async () => {
    await Promise.all(pools.map((pool) => pool.close()));
  });

  it('runs calls on worker replicas and streams their pieces in order', async () => {
    const pool = await start();
    pools.push(pool);
    assert.deepEqual(await pool.call('echo', { a: 1 }), { a: 1 });
    const pieces: unknown[] = [];
    assert.equal(await pool.call('stream', 5, { onChunk: (piece) => pieces.push(piece) }), 'done');
    assert.deepEqual(pieces, [0, 1, 2, 3, 4]);
    assert.deepEqual(pool.stats(), { replicas: 2, ready: 2, running: 0, queued: 0, restarts: 0 });
  });

  it('refuses calls beyond the queue bound with 429 and Retry-After', async () => {
    const pool = await start();
    pools.push(pool);
    // 2 replicas × 1 running + 2 queued = 4 accepted; the 5th is refused at once.
    const accepted = Array.from({ length: 4 }, () => pool.call('sleep', 200));
    await assert.rejects(pool.call('echo', 'one too many'), (error: unknown) => {
      assert.ok(EnsembleError.isInstance(error));
      assert.equal(error.code, 'rate_limited');
      assert.equal(error.httpStatus, 429);
      assert.equal(error.retryAfterSeconds, 1);
      return true;
    });
    assert.deepEqual(await Promise.all(accepted), ['slept', 'slept', 'slept', 'slept']);
  });

  it('fails the call on a crashed replica cleanly, restarts the replica and keeps serving', async () => {
    const pool = await start({ replicas: 1 });
    pools.push(pool);
    const crash = pool.call('crash', null);
    const queued = pool.call('echo', 'after the crash');
    await assert.rejects(Promise.race([crash, sleep(5_000).then(() => 'hung')]), (error: unknown) => {
      assert.ok(EnsembleError.isInstance(error));
      assert.equal(error.code, 'upstream_error');
      assert.equal(error.retryable, true);
      assert.match(error.message, /replica 0 stopped while running this request \(exit code 3\).*restarted/);
      return true;
    });
    // The call queued behind the crash runs on the restarted replica.
    assert.equal(await queued, 'after the crash');
    assert.equal(pool.stats().restarts, 1);
    assert.equal(pool.stats().ready, 1);
    assert.equal(await pool.call('echo', 'still here'), 'still here');
  });

  it('stops a running call when its signal aborts and frees the slot', async () => {
    const pool = await start({ replicas: 1, maxQueue: 0 });
    pools.push(pool);
    const controller = new AbortController();
    const started = performance.now();
    const call = pool.call('sleep', 10_000, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('client went away')), 50);
    await assert.rejects(call, /client went away/);
    assert.ok(performance.now() - started < 2_000);
    await sleep(50);
    assert.equal(await pool.call('echo', 'free again'), 'free again');
  });

  it('reports a model that cannot load, and undeploy fails what waits', async () => {
    await assert.rejects(start({ replicas: 1 }, { failLoad: true }), /failed to load: weights are unreadable/);
    const pool = await start({ replicas: 1, maxQueue: 4 });
    const running = assert.rejects(pool.call('sleep', 10_000), { code: 'shutting_down' });
    const waiting = assert.rejects(pool.call('echo', 'x'), { code: 'shutting_down' });
    await pool.close();
    await Promise.all([running, waiting]);
    await assert.rejects(pool.call('echo', 'y'), { code: 'shutting_down' });
  });

  it('undeploys a replica only after its running calls have unwound, never disposing under them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ensemble-replica-'));
    const disposeLog = join(dir, 'dispose.log');
    const pool = await start({ replicas: 2, maxQueue: 4 }, { disposeLog });
    const calls = [pool.call('generate', null), pool.call('generate', null)].map((call) =>
      assert.rejects(call, { code: 'shutting_down' }),
    );
    await sleep(100);
    await pool.close();
    await Promise.all(calls);
    assert.deepEqual((await readFile(disposeLog, 'utf8')).trim().split('\n'), [
      'disposed with 0 generating',
      'disposed with 0 generating',
    ]);
    await rm(dir, { recursive: true, force: true });
  });
});

describe('assertFitsInMemory', () => {
  it('refuses a deployment larger than free memory, naming both figures', () => {
    const budget = { freeBytes: () => 200 * 1024 * 1024, factor: 1.5, perReplicaOverheadBytes: 64 * 1024 * 1024 };
    assert.doesNotThrow(() => assertFitsInMemory('local/small', 50 * 1024 * 1024, 1, budget));
    assert.throws(
      () => assertFitsInMemory('local/big', 100 * 1024 * 1024, 2, budget),
      (error: unknown) => {
        assert.ok(EnsembleError.isInstance(error));
        assert.equal(error.code, 'conflict');
        assert.match(
          error.message,
          /cannot deploy local model 'local\/big': 2 replica\(s\) need about 428 MiB but only 200 MiB is free/,
        );
        return true;
      },
    );
  });
});
