import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDatabase } from '@ensemble/adapters/postgres';
import { createTestDatabase, type TestDatabase } from '@ensemble/testkit';
import {
  completionBody,
  type FakeOpenAiServer,
  startFakeOpenAiServer,
} from '../../../server/src/modules/openai-gateway/testing/fake-openai-server.ts';
import { type EnsembleProcess, spawnEnsemble } from '../testing/ensemble-process.ts';

interface StepJson {
  path: string;
  status: string;
  startedAt: string;
  output: unknown;
}
interface RunJson {
  id: string;
  status: string;
  resumed: number;
  output: unknown;
  steps: StepJson[];
}

// A run interrupted by SIGKILL in the middle of a four-step pipeline: after a restart the run is taken
// up again from its checkpoints and completes, and the steps finished before the crash are not run
// again — counted as calls to the model's upstream.
describe('a pipeline run survives the death of its process', { timeout: 180_000 }, () => {
  let home: string;
  let database: TestDatabase;
  let upstream: FakeOpenAiServer;
  let ensemble: EnsembleProcess | undefined;
  const env = () => ({ ENSEMBLE_HOME: home, DATABASE_URL: database.url, PIPELINE_RUN_LEASE_MS: '1500' });
  const api = async (path: string, body?: unknown) => {
    const running = ensemble as EnsembleProcess;
    const response = await fetch(`${running.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { ...running.auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const waitFor = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const value = await probe();
      if (value !== undefined) return value;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`timed out waiting for ${what}\n${ensemble?.output() ?? ''}`);
  };

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'ensemble-resume-'));
    await chmod(home, 0o755);
    database = await createTestDatabase('pipelines_resume');
    // Each answer takes a while, so the process can be killed between two steps.
    upstream = await startFakeOpenAiServer(async (request, response) => {
      await new Promise((resolve) => setTimeout(resolve, 600));
      const last = (request.body.messages as Array<{ content: string }>).at(-1)?.content ?? '';
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(completionBody(`<${last}>`)));
    });
  });
  after(async () => {
    await ensemble?.stop('SIGTERM');
    await upstream?.close();
    await database?.drop();
    await rm(home, { recursive: true, force: true });
  });

  it('resumes from the last finished step and completes', async () => {
    ensemble = await spawnEnsemble(['start'], env());
    const model = await api('/api/models', {
      name: 'fake/chat',
      kind: 'chat',
      provider: 'openai-compatible',
      providerModelId: 'upstream-model',
      baseUrl: upstream.baseUrl,
    });
    assert.equal(model.status, 201, JSON.stringify(model.body));
    const step = (id: string, prompt: string) => ({ id, kind: 'model', model: 'fake/chat', prompt });
    const created = await api('/api/pipelines', {
      name: 'four-steps',
      definition: { steps: [step('a', 'a'), step('b', 'b{{a}}'), step('c', 'c{{b}}'), step('d', 'd{{c}}')] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));

    // The client's request dies with the process; the run does not.
    void api('/api/pipelines/four-steps/run', { input: {} }).catch(() => undefined);
    const runId = await waitFor('the run to start', async () => {
      const runs = (await api('/api/runs?pipeline=four-steps')).body.data as RunJson[];
      return runs[0]?.id;
    });
    await waitFor('two finished steps', async () => {
      const run = (await api(`/api/runs/${runId}`)).body as unknown as RunJson;
      return run.steps.filter((record) => record.status === 'succeeded').length >= 2 ? run : undefined;
    });
    await ensemble.stop('SIGKILL');
    const before = (await stepRows(database.url, runId)) as StepJson[];
    const finishedBefore = before.filter((record) => record.status === 'succeeded');
    const callsBefore = upstream.requests.length;
    assert.ok(finishedBefore.length >= 2 && finishedBefore.length < 4, JSON.stringify(before));

    ensemble = await spawnEnsemble(['start'], env());
    const done = await waitFor(
      'the resumed run to finish',
      async () => {
        const run = (await api(`/api/runs/${runId}`)).body as unknown as RunJson;
        return run.status === 'running' ? undefined : run;
      },
      60_000,
    );
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.equal(done.resumed, 1);
    assert.equal(done.output, '<d<c<b<a>>>>');
    // Finished steps kept their records (not run again); only the rest reached the upstream.
    for (const record of finishedBefore) {
      const after = done.steps.find((candidate) => candidate.path === record.path);
      assert.equal(after?.startedAt, record.startedAt, `${record.path} was run again`);
    }
    const unfinished = 4 - finishedBefore.length;
    const callsAfter = upstream.requests.length - callsBefore;
    assert.equal(callsAfter, unfinished, `calls after the restart: ${callsAfter}, steps left: ${unfinished}`);
    assert.equal(upstream.requests.length, 4 + (callsBefore - finishedBefore.length));
  });
});

/** The run's step rows as PostgreSQL has them (the process that wrote them is gone). */
async function stepRows(url: string, runId: string): Promise<StepJson[]> {
  const database = createDatabase({ url, poolSize: 1 });
  try {
    const { rows } = await database.pool.query<{ path: string; status: string; started_at: Date; output: unknown }>(
      'select path, status, started_at, output from pipeline_run_steps where run_id = $1 order by path',
      [runId],
    );
    return rows.map((row) => ({
      path: row.path,
      status: row.status,
      startedAt: row.started_at.toISOString(),
      output: row.output,
    }));
  } finally {
    await database.close();
  }
}
