import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EmbeddedPostgresServer } from '@ensemble/adapters/postgres';
import { createTestDatabase, startOwnKafkaBroker, waitFor } from '@ensemble/testkit';
import { spawnEnsemble } from './testing/ensemble-process.ts';

interface Readiness {
  status: string;
  checks: Record<string, { status: string; error?: string }>;
}

async function readiness(url: string): Promise<{ status: number; body: Readiness }> {
  const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: (await response.json()) as Readiness };
}

// Dependencies lost while Ensemble runs: it reports 503, fails requests fast, stays up, and
// recovers by itself when they return.
describe('a running Ensemble losing its dependencies', { timeout: 420_000 }, () => {
  it('survives PostgreSQL restarting: 503 while it is down, then recovers', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ensemble-pg-fault-'));
    await chmod(dir, 0o755);
    const postgres = new EmbeddedPostgresServer({ dataDir: join(dir, 'pg'), port: 0 });
    const { url } = await postgres.start();
    const home = await mkdtemp(join(tmpdir(), 'ensemble-home-'));
    const ensemble = await spawnEnsemble(['start'], {
      DATABASE_URL: url,
      ENSEMBLE_HOME: home,
      DATABASE_CONNECT_TIMEOUT_MS: '2000',
    });
    try {
      assert.equal((await readiness(ensemble.url)).status, 200);
      // Running means the in-process worker too (it starts after the server listens).
      await waitFor('the in-process worker to run', () => /"msg":"worker running"/.test(ensemble.output()));
      await postgres.stop();

      const down = await waitFor('readyz to say 503', async () => {
        const result = await readiness(ensemble.url);
        return result.status === 503 ? result.body : undefined;
      });
      assert.equal(down.checks.database?.status, 'down');

      const started = Date.now();
      const failed = await fetch(`${ensemble.url}/api/projects`, { headers: ensemble.auth });
      assert.equal(failed.status, 503);
      const error = ((await failed.json()) as { error: { code: string } }).error;
      assert.equal(error.code, 'database_unavailable');
      assert.ok(Date.now() - started < 8_000, `failed fast (${Date.now() - started} ms)`);

      await postgres.start();
      await waitFor('readyz to recover', async () => (await readiness(ensemble.url)).status === 200, {
        timeoutMs: 60_000,
      });
      const created = await fetch(`${ensemble.url}/api/projects`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...ensemble.auth },
        body: JSON.stringify({ id: 'after-restart', name: 'Written after the restart' }),
      });
      assert.equal(created.status, 201);
      assert.equal(ensemble.child.exitCode, null, 'Ensemble kept running');
    } finally {
      assert.equal(await ensemble.stop(), 0, ensemble.output());
      await postgres.stop();
      await rm(dir, { recursive: true, force: true });
      await rm(home, { recursive: true, force: true });
    }
  });

  it('survives the Kafka broker restarting: readyz names the event bus, then recovers', async () => {
    const broker = await startOwnKafkaBroker();
    const database = await createTestDatabase('kafka_fault');
    const ensemble = await spawnEnsemble(['start'], {
      DATABASE_URL: database.url,
      KAFKA_BROKERS: broker.address,
      KAFKA_CONNECT_TIMEOUT_MS: '1000',
      KAFKA_TOPIC_PARTITIONS: '2',
      ENSEMBLE_HOME: '/nonexistent',
    });
    try {
      assert.equal((await readiness(ensemble.url)).status, 200);
      await waitFor('the in-process worker to run', () => /"msg":"worker running"/.test(ensemble.output()));
      await broker.stop();
      const down = await waitFor('readyz to say 503', async () => {
        const result = await readiness(ensemble.url);
        return result.status === 503 ? result.body : undefined;
      });
      assert.equal(down.checks['event-bus']?.status, 'down');
      assert.equal(down.checks.database?.status, 'up');
      // Requests that do not need the bus keep working.
      assert.equal((await fetch(`${ensemble.url}/api/projects`, { headers: ensemble.auth })).status, 200);

      await broker.start();
      await waitFor('readyz to recover', async () => (await readiness(ensemble.url)).status === 200, {
        timeoutMs: 120_000,
      });
      assert.equal(ensemble.child.exitCode, null, 'Ensemble kept running');
    } finally {
      assert.equal(await ensemble.stop(), 0, ensemble.output());
      await broker.dispose();
      await database.drop();
    }
  });
});
