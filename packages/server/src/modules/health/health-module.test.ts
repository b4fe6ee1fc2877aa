import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type DependencyCheck, EnsembleError } from '@ensemble/core';
import packageJson from '../../../package.json' with { type: 'json' };
import { buildTestApp } from '../../testing/test-app.ts';

const up = (name: string, delayMs = 0): DependencyCheck => ({
  name,
  async check() {
    if (delayMs > 0) await sleep(delayMs);
  },
});

const down = (name: string, error: unknown): DependencyCheck => ({
  name,
  async check() {
    throw error;
  },
});

/** Never settles and ignores its signal: the worst a check can do. */
const hanging = (name: string): DependencyCheck => ({
  name,
  check: () => new Promise<void>(() => {}),
});

describe('/healthz', () => {
  test('answers 200 with uptime and version', async () => {
    const { app } = await buildTestApp({ checks: [down('database', new Error('unreachable'))] });
    try {
      const response = await app.inject({ method: 'GET', url: '/healthz' });
      assert.equal(response.statusCode, 200);
      const body = response.json() as { status: string; uptimeSeconds: number; version: string };
      assert.equal(body.status, 'ok');
      assert.equal(body.version, packageJson.version);
      assert.ok(body.uptimeSeconds >= 0);
    } finally {
      await app.close();
    }
  });
});

describe('/readyz', () => {
  test('200 ready when every check passes, with latencies', async () => {
    const { app } = await buildTestApp({ checks: [up('database', 20), up('event-bus')] });
    try {
      const response = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(response.statusCode, 200);
      const body = response.json() as { status: string; checks: Record<string, { status: string; latencyMs: number }> };
      assert.equal(body.status, 'ready');
      assert.equal(body.checks.database?.status, 'up');
      assert.ok((body.checks.database?.latencyMs ?? 0) >= 15);
      assert.equal(body.checks['event-bus']?.status, 'up');
    } finally {
      await app.close();
    }
  });

  test('503 unavailable naming the failing check and its reason', async () => {
    const { app } = await buildTestApp({
      checks: [
        up('database'),
        down('event-bus', new EnsembleError('event_bus_unavailable', 'no broker at 127.0.0.1:9092')),
      ],
    });
    try {
      const response = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(response.statusCode, 503);
      const body = response.json() as { status: string; checks: Record<string, { status: string; error?: string }> };
      assert.equal(body.status, 'unavailable');
      assert.equal(body.checks.database?.status, 'up');
      assert.deepEqual(
        { status: body.checks['event-bus']?.status, error: body.checks['event-bus']?.error },
        { status: 'down', error: 'no broker at 127.0.0.1:9092' },
      );
    } finally {
      await app.close();
    }
  });

  test('a foreign error reports only its code; its message stays in the log', async () => {
    const leaky = Object.assign(new Error('connect to postgres://admin:hunter2@db refused'), { code: 'ECONNREFUSED' });
    const { app, logs } = await buildTestApp({ checks: [down('database', leaky), down('cache', new Error('boom'))] });
    try {
      const response = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(response.statusCode, 503);
      assert.doesNotMatch(response.body, /hunter2|boom/);
      const body = response.json() as { checks: Record<string, { error?: string }> };
      assert.equal(body.checks.database?.error, 'check failed (ECONNREFUSED)');
      assert.equal(body.checks.cache?.error, 'check failed');
      assert.match(logs.text, /dependency check failed/);
    } finally {
      await app.close();
    }
  });

  test('a check that throws synchronously is down, not a 500', async () => {
    const syncThrow: DependencyCheck = {
      name: 'database',
      check() {
        throw new EnsembleError('database_unavailable', 'pool is closed');
      },
    };
    const { app } = await buildTestApp({ checks: [syncThrow] });
    try {
      const response = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(response.statusCode, 503);
      assert.match(response.body, /pool is closed/);
    } finally {
      await app.close();
    }
  });

  test('a hanging check is reported as a timeout at its deadline, checks run in parallel', async () => {
    let aborted: unknown;
    const observing: DependencyCheck = {
      name: 'event-bus',
      check: (signal) =>
        new Promise<void>(() => {
          signal.addEventListener('abort', () => {
            aborted = signal.reason;
          });
        }),
    };
    const { app } = await buildTestApp({
      checks: [hanging('database'), observing, up('cache', 50)],
      readinessTimeoutMs: 150,
    });
    try {
      const started = performance.now();
      const response = await app.inject({ method: 'GET', url: '/readyz' });
      const elapsed = performance.now() - started;
      assert.equal(response.statusCode, 503);
      assert.ok(elapsed < 600, `answered in ${elapsed} ms`);
      const body = response.json() as { checks: Record<string, { status: string; latencyMs: number; error?: string }> };
      assert.equal(body.checks.database?.status, 'timeout');
      assert.equal(body.checks.database?.error, 'no answer within 150 ms');
      assert.ok((body.checks.database?.latencyMs ?? 0) >= 140);
      assert.equal(body.checks['event-bus']?.status, 'timeout');
      assert.equal(body.checks.cache?.status, 'up');
      assert.ok(EnsembleError.isInstance(aborted), 'the check is told to stop through its signal');
    } finally {
      await app.close();
    }
  });

  test('with no checks the app is ready', async () => {
    const { app } = await buildTestApp();
    try {
      const response = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), { status: 'ready', checks: {} });
    } finally {
      await app.close();
    }
  });

  test('503 shutting_down once shutdown begins, while /healthz stays 200', async () => {
    const { app } = await buildTestApp({ checks: [up('database')] });
    try {
      app.lifecycle.beginShutdown();
      const ready = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 503);
      assert.deepEqual(ready.json(), { status: 'unavailable', reason: 'shutting_down', checks: {} });
      const health = await app.inject({ method: 'GET', url: '/healthz' });
      assert.equal(health.statusCode, 200);
      // Draining still serves ordinary traffic: only readiness changes.
      const other = await app.inject({ method: 'GET', url: '/test/items?limit=1' });
      assert.equal(other.statusCode, 200);
    } finally {
      await app.close();
    }
  });
});
