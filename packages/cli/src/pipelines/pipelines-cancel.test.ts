import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase, waitFor } from '@ensemble/testkit';
import { type EnsembleProcess, spawnEnsemble } from '../testing/ensemble-process.ts';
import { type FakeJobUpstream, startFakeJobUpstream } from '../testing/fake-job-upstream.ts';

// Two real server processes on one PostgreSQL database: a run executing on B is cancelled through A.
describe('cancelling a run from another instance', { timeout: 240_000 }, () => {
  let database: TestDatabase;
  let home: string;
  let upstream: FakeJobUpstream;
  let a: EnsembleProcess;
  let b: EnsembleProcess;
  const api = async (instance: EnsembleProcess, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${instance.url}${path}`, {
      method,
      headers: { ...instance.auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, text, body: text === '' ? undefined : JSON.parse(text) };
  };

  before(async () => {
    database = await createTestDatabase('runs_cancel');
    home = await mkdtemp(join(tmpdir(), 'ensemble-runs-cancel-'));
    upstream = await startFakeJobUpstream();
    const env = {
      DATABASE_URL: database.url,
      ENSEMBLE_MASTER_KEY: 'A'.repeat(43).concat('='),
      // Long leases: the cancellation must come through the notification, not a lease renewal.
      PIPELINE_RUN_LEASE_MS: '60000',
    };
    a = await spawnEnsemble(['start', '--no-worker'], { ...env, ENSEMBLE_HOME: join(home, 'a') });
    b = await spawnEnsemble(['start', '--no-worker'], { ...env, ENSEMBLE_HOME: join(home, 'b') });
  });
  after(async () => {
    if (a) assert.equal(await a.stop(), 0, a.output());
    if (b) assert.equal(await b.stop(), 0, b.output());
    await upstream.close();
    await database.drop();
    await rm(home, { recursive: true, force: true });
  });

  it('POST /api/runs/{id}/cancel on A stops the run on B within moments', async () => {
    const registered = await api(a, 'POST', '/api/models', {
      name: 'slow-chat',
      kind: 'chat',
      provider: 'openai-compatible',
      providerModelId: 'fake-chat',
      baseUrl: upstream.baseUrl,
    });
    assert.equal(registered.status, 201, registered.text);
    const created = await api(a, 'POST', '/api/pipelines', {
      name: 'slow',
      definition: { steps: [{ id: 'answer', kind: 'model', model: 'slow-chat', prompt: '{{input.text}}' }] },
    });
    assert.equal(created.status, 201, created.text);

    // The run executes on B (the upstream answers only after 60 s).
    const running = api(b, 'POST', '/api/pipelines/slow/run', { input: { text: 'SLOW:60000 take your time' } });
    const run = await waitFor(
      'the run to be running on B',
      async () => {
        const listed = (await api(a, 'GET', '/api/runs?pipeline=slow&status=running')).body.data as Array<{
          id: string;
        }>;
        return listed[0];
      },
      { timeoutMs: 30_000, intervalMs: 50 },
    );
    const requested = performance.now();
    const cancel = await api(a, 'POST', `/api/runs/${run.id}/cancel`);
    assert.equal(cancel.status, 200, cancel.text);
    assert.deepEqual(cancel.body, { id: run.id, cancelled: true });
    const ended = await waitFor(
      'the run to end cancelled',
      async () => {
        const current = (await api(a, 'GET', `/api/runs/${run.id}`)).body as { status: string };
        return current.status === 'running' ? undefined : current;
      },
      { timeoutMs: 10_000, intervalMs: 20 },
    );
    const tookMs = performance.now() - requested;
    assert.equal(ended.status, 'cancelled');
    // Far below the 60 s lease (a renewal every 20 s): the notification did it.
    assert.ok(tookMs < 5_000, `cancelled after ${Math.round(tookMs)} ms`);
    const answer = await running;
    assert.notEqual(answer.status, 200, 'the caller on B did not get an answer');
    process.stdout.write(`# cross-instance cancel: run ended ${Math.round(tookMs)} ms after the request\n`);

    // Cancelling again, or a finished run: nothing to cancel.
    assert.deepEqual((await api(b, 'POST', `/api/runs/${run.id}/cancel`)).body, { id: run.id, cancelled: false });
  });
});
