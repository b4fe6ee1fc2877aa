import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase, waitFor } from '@ensemble/testkit';
import { type EnsembleProcess, runEnsemble, spawnEnsemble } from '../testing/ensemble-process.ts';
import { type FakeJobUpstream, startFakeJobUpstream } from '../testing/fake-job-upstream.ts';

interface JobJson {
  id?: string;
  status?: string;
  counts?: unknown;
  target?: unknown;
}

// `ensemble start` as a user runs it: the jobs API and the in-process worker on the embedded bus.
describe('jobs through `ensemble start`', { timeout: 180_000 }, () => {
  let database: TestDatabase;
  let home: string;
  let upstream: FakeJobUpstream;
  let ensemble: EnsembleProcess;
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${ensemble.url}${path}`, {
      method,
      headers: { ...ensemble.auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    const json = response.headers.get('content-type')?.startsWith('application/json') === true;
    return { status: response.status, text, body: (json ? JSON.parse(text) : {}) as JobJson };
  };

  before(async () => {
    database = await createTestDatabase('jobs_start');
    home = await mkdtemp(join(tmpdir(), 'ensemble-jobs-home-'));
    upstream = await startFakeJobUpstream();
    ensemble = await spawnEnsemble(['start'], { DATABASE_URL: database.url, ENSEMBLE_HOME: home });
  });
  after(async () => {
    assert.equal(await ensemble.stop(), 0, ensemble.output());
    await upstream.close();
    await database.drop();
    await rm(home, { recursive: true, force: true });
  });

  it('submits, runs and serves a batch through the real server and worker', async () => {
    const registered = await call('POST', '/api/models', {
      name: 'upstream-chat',
      kind: 'chat',
      provider: 'openai-compatible',
      providerModelId: 'fake-chat',
      baseUrl: upstream.baseUrl,
    });
    assert.equal(registered.status, 201, registered.text);
    const submitted = await call('POST', '/api/jobs', {
      type: 'batch-inference',
      model: 'upstream-chat',
      inputs: Array.from({ length: 30 }, (_, i) => ({
        customId: `q${i}`,
        messages: [{ role: 'user', content: `q ${i}` }],
      })),
    });
    assert.equal(submitted.status, 201, submitted.text);
    const id = submitted.body.id as string;
    const done = await waitFor(
      'the job to complete',
      async () => {
        const job = await call('GET', `/api/jobs/${id}`);
        return job.body.status === 'completed' ? job.body : undefined;
      },
      { timeoutMs: 60_000 },
    );
    assert.deepEqual(done.counts, { total: 30, succeeded: 30, failed: 0, pending: 0 });
    assert.deepEqual(done.target, { type: 'model', name: 'upstream-chat', version: 1, kind: 'chat' });
    const results = await call('GET', `/api/jobs/${id}/results`);
    assert.equal(results.status, 200);
    const lines = results.text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { customId: string });
    assert.deepEqual(
      lines.map((line) => line.customId),
      Array.from({ length: 30 }, (_, i) => `q${i}`),
    );
    const unauthenticated = await fetch(`${ensemble.url}/api/jobs/${id}`);
    assert.equal(unauthenticated.status, 401);
    const openapi = (await (await fetch(`${ensemble.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    assert.ok(openapi.paths['/api/jobs/{id}/retry-failed'], 'the jobs routes are documented');
  });
  it('ensemble jobs submit --watch | watch | results: a progress bar, then the results', async () => {
    const file = join(home, 'requests.jsonl');
    const lines = Array.from({ length: 40 }, (_, i) =>
      JSON.stringify({
        customId: `r${i}`,
        messages: [{ role: 'user', content: i === 5 ? 'FAIL' : `SLOW:40 cli ${i}` }],
      }),
    );
    await writeFile(file, `${lines.join('\n')}\n`);
    const client = { ENSEMBLE_URL: ensemble.url, ENSEMBLE_API_KEY: ensemble.adminKey as string };
    const submitted = await runEnsemble(
      [
        'jobs',
        'submit',
        file,
        '--model',
        'upstream-chat',
        '--max-attempts',
        '1',
        '--metadata',
        'source=cli',
        '--watch',
      ],
      client,
    );
    assert.equal(submitted.code, 1, `completed with errors: exit 1\n${submitted.output}`);
    const id = /job_[A-Za-z0-9]{20}/.exec(submitted.output)?.[0] as string;
    assert.ok(id, submitted.output);
    assert.match(submitted.output, /submitted job_\w+: 40 items/);
    assert.match(submitted.output, /running +\[[█░]+\] +\d+% \d+\/40/, 'progress lines while it runs');
    assert.match(submitted.output, /completed_with_errors: 39 succeeded, 1 failed, 0 not run/);
    assert.equal(submitted.output.match(/completed_with_errors +\[/g)?.length, 1, 'the final bar once');

    const watched = await runEnsemble(['jobs', 'watch', id], client);
    assert.equal(watched.code, 1);
    assert.match(watched.output, /completed_with_errors +\[█+\] 100% 40\/40 · 1 failed/);

    const out = join(home, 'results.jsonl');
    const results = await runEnsemble(['jobs', 'results', id, '--output', out], client);
    assert.equal(results.code, 0, results.output);
    const written = (await readFile(out, 'utf8')).trim().split('\n');
    assert.equal(written.length, 40);
    assert.equal((JSON.parse(written[39] as string) as { customId: string }).customId, 'r39');
    const failed = await runEnsemble(['jobs', 'results', id, '--failed'], client);
    assert.equal(failed.code, 0);
    assert.equal(failed.output.trim().split('\n').length, 1);
    assert.match(failed.output, /"customId":"r5","status":"failed"/);

    const refused = await runEnsemble(['jobs', 'watch', id], {
      ...client,
      ENSEMBLE_API_KEY: 'ens_notAKeyThatExists0000000000000000000000',
    });
    assert.equal(refused.code, 1);
    assert.match(refused.output, /401/);
  });
});
