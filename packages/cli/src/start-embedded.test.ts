import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@ensemble/testkit';
import { runEnsemble, spawnEnsemble } from './testing/ensemble-process.ts';

// What a new user gets from `npm ci && npm start`: no DATABASE_URL, no KAFKA_BROKERS, no API key.
describe('ensemble start with embedded defaults', { timeout: 240_000 }, () => {
  let home: string;
  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'ensemble-home-'));
    // Run as root (CI), the embedded PostgreSQL runs as 'postgres' and must be able to reach its folder.
    await chmod(home, 0o755);
  });
  after(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('serves health, readiness, OpenAPI and docs, keeps data across a restart, and exits 0 on SIGTERM', async () => {
    const first = await spawnEnsemble(['start'], { ENSEMBLE_HOME: home });
    try {
      const health = await fetch(`${first.url}/healthz`);
      assert.equal(health.status, 200);
      assert.equal(((await health.json()) as { status: string }).status, 'ok');

      const ready = await fetch(`${first.url}/readyz`);
      const readiness = (await ready.json()) as { status: string; checks: Record<string, { status: string }> };
      assert.equal(ready.status, 200, JSON.stringify(readiness));
      assert.equal(readiness.checks.database?.status, 'up');
      assert.equal(readiness.checks['event-bus']?.status, 'up');

      const openapi = (await (await fetch(`${first.url}/openapi.json`)).json()) as {
        openapi: string;
        paths: Record<string, unknown>;
      };
      assert.match(openapi.openapi, /^3\./);
      assert.ok(openapi.paths['/api/projects'], 'the projects API is documented');
      const docs = await fetch(`${first.url}/docs`);
      assert.equal(docs.status, 200);
      assert.match(await docs.text(), /swagger/i);

      const created = await fetch(`${first.url}/api/projects`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...first.auth },
        body: JSON.stringify({ id: 'kept', name: 'Survives restarts' }),
      });
      assert.equal(created.status, 201);
      // The in-process worker starts after the server listens; a SIGTERM before that is a shutdown during start-up.
      await waitFor('the in-process worker to run', () => /"msg":"worker running"/.test(first.output()));
    } finally {
      assert.equal(await first.stop('SIGTERM'), 0, first.output());
    }
    assert.match(first.output(), /"msg":"shutdown complete"/);
    assert.match(first.output(), /embedded PostgreSQL stopped/);

    const second = await spawnEnsemble(['start'], { ENSEMBLE_HOME: home });
    try {
      const project = await fetch(`${second.url}/api/projects/kept`, { headers: second.auth });
      assert.equal(project.status, 200);
      assert.equal(((await project.json()) as { name: string }).name, 'Survives restarts');
      assert.doesNotMatch(second.output(), /applied a migration/, 'migrations are not re-applied');
    } finally {
      assert.equal(await second.stop('SIGTERM'), 0, second.output());
    }
  });

  it('a SIGTERM during start-up (the embedded PostgreSQL still starting) closes what was opened and exits 0', async () => {
    const fresh = await mkdtemp(join(tmpdir(), 'ensemble-home-'));
    await chmod(fresh, 0o755);
    try {
      const starting = await spawnEnsemble(['start'], { ENSEMBLE_HOME: fresh }, { waitForListening: false });
      const deadline = Date.now() + 30_000;
      while (!/starting the embedded PostgreSQL/.test(starting.output())) {
        assert.ok(Date.now() < deadline, `no start-up log within 30 s:\n${starting.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(await starting.stop('SIGTERM'), 0, starting.output());
      assert.match(starting.output(), /shutdown complete/);
      assert.doesNotMatch(starting.output(), /ensemble listening/, 'it stopped before listening');
      // Nothing left running: the embedded server was stopped, not orphaned.
      assert.equal(existsSync(join(fresh, 'postgres', 'postmaster.pid')), false, starting.output());
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  });

  it('refuses a wrong setting at start, naming it and the fix, with exit code 78', async () => {
    const { code, output } = await runEnsemble(['start'], { ENSEMBLE_HOME: home, PORT: 'eighty', LOG_LEVEL: 'loud' });
    assert.equal(code, 78);
    assert.match(output, /PORT: .*fix: set it to a TCP port/);
    assert.match(output, /LOG_LEVEL: /);
    assert.doesNotMatch(output, /at .*\.ts:\d+/, 'no stack trace for a configuration error');
  });

  it('stops at start with a clear message when DATABASE_URL cannot be reached', async () => {
    const started = Date.now();
    const { code, output } = await runEnsemble(['start'], {
      ENSEMBLE_HOME: home,
      DATABASE_URL: 'postgres://ensemble:secret-password@127.0.0.1:1/ensemble',
      DATABASE_CONNECT_TIMEOUT_MS: '1000',
    });
    assert.equal(code, 1);
    assert.match(
      output,
      /Cannot reach PostgreSQL at 127\.0\.0\.1:1\/ensemble: .*Fix: start it, or correct DATABASE_URL/,
    );
    assert.doesNotMatch(output, /secret-password/, 'the password is never printed');
    assert.ok(Date.now() - started < 30_000, 'fails fast');
  });

  it('stops at start with a clear message when KAFKA_BROKERS cannot be reached', async () => {
    const { code, output } = await runEnsemble(['start'], {
      ENSEMBLE_HOME: home,
      KAFKA_BROKERS: '127.0.0.1:1',
      KAFKA_CONNECT_TIMEOUT_MS: '1000',
    });
    assert.equal(code, 1);
    assert.match(output, /Cannot reach the Kafka brokers at 127\.0\.0\.1:1: .*correct KAFKA_BROKERS/);
  });

  it('refuses a port that is already taken', async () => {
    const holder = await spawnEnsemble(['start', '--no-worker'], { ENSEMBLE_HOME: home });
    try {
      const port = new URL(holder.url).port;
      const { code, output } = await runEnsemble(['start'], { ENSEMBLE_HOME: `${home}-2`, PORT: port });
      assert.equal(code, 78);
      assert.match(output, new RegExp(`PORT ${port} on 127\\.0\\.0\\.1 is already in use`));
    } finally {
      await holder.stop();
      await rm(`${home}-2`, { recursive: true, force: true });
    }
  });

  it('prints help for every command and rejects unknown ones', async () => {
    for (const command of ['start', 'worker', 'migrate']) {
      const { code, output } = await runEnsemble([command, '--help'], {});
      assert.equal(code, 0);
      assert.match(output, new RegExp(`Usage: ensemble ${command}`));
    }
    const { code, output } = await runEnsemble(['serve'], {});
    assert.notEqual(code, 0);
    assert.match(output, /unknown command 'serve'/);
  });
});
