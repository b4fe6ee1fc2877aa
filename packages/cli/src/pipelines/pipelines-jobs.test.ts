import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { testKafkaBrokers, uniqueName, waitFor } from '@ensemble/testkit';
import { linkBuiltInArtifacts } from '../testing/built-in-artifacts.ts';
import { type EnsembleProcess, spawnEnsemble } from '../testing/ensemble-process.ts';
import { type FakeJobUpstream, startFakeJobUpstream } from '../testing/fake-job-upstream.ts';
import { waitForBuiltInModels } from '../testing/wait-for-built-in-models.ts';

interface StepNode {
  path: string;
  stepId: string;
  kind: string;
  status: string;
  model: string | null;
  output: unknown;
  steps: StepNode[];
}
interface RunJson {
  id: string;
  status: string;
  pipeline: string;
  version: number;
  source: string;
  jobId: string | null;
  jobItem: number | null;
  output: unknown;
  outputTokens: number;
  steps: StepNode[];
}
interface JobJson {
  id: string;
  status: string;
  round: number;
  model: string;
  target: Record<string, unknown>;
  counts: { total: number; succeeded: number; failed: number; pending: number };
  usage: { inputTokens: number; outputTokens: number };
}
interface ResultLine {
  index: number;
  customId: string | null;
  status: string;
  output: { runId: string; output: unknown } | null;
  error: { code: string; message: string } | null;
}

// `pipeline-run` jobs on a real `ensemble start --examples` whose jobs go through the shared Kafka
// broker (topics of the test's own): the example pipelines run per item on the local models, each
// item a run recorded with `source: job`, its trace checked step by step. Few items: CI time.
describe('pipeline-run jobs through Kafka', { timeout: 600_000 }, () => {
  let home: string;
  let ensemble: EnsembleProcess;
  let upstream: FakeJobUpstream;
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${ensemble.url}${path}`, {
      method,
      headers: { ...ensemble.auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    const json = response.headers.get('content-type')?.startsWith('application/json') === true;
    return { status: response.status, text, body: json && text !== '' ? JSON.parse(text) : undefined };
  };
  const waitForJob = (id: string, statuses: string[]) =>
    waitFor(
      `job ${id} to be ${statuses.join(' or ')}`,
      async () => {
        const job = (await api('GET', `/api/jobs/${id}`)).body as JobJson;
        return statuses.includes(job.status) ? job : undefined;
      },
      { timeoutMs: 300_000, intervalMs: 250 },
    );
  const resultsOf = async (id: string) =>
    (await api('GET', `/api/jobs/${id}/results`)).text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as ResultLine);
  const runOf = async (id: string) => (await api('GET', `/api/runs/${id}`)).body as RunJson;

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'ensemble-pipeline-jobs-'));
    await chmod(home, 0o755);
    await linkBuiltInArtifacts(join(home, 'artifacts'));
    upstream = await startFakeJobUpstream();
    ensemble = await spawnEnsemble(['start', '--examples'], {
      ENSEMBLE_HOME: home,
      ENSEMBLE_BUILT_IN_MODELS: 'deploy',
      MODEL_HEALTH_INTERVAL_MS: '0',
      KAFKA_BROKERS: testKafkaBrokers().join(','),
      KAFKA_NAME_PREFIX: `${uniqueName('pipejobs').replaceAll('_', '-')}.`,
    });
    await waitForBuiltInModels(ensemble);
  });
  after(async () => {
    if (ensemble) assert.equal(await ensemble.stop('SIGTERM'), 0, ensemble.output());
    await upstream?.close();
    await rm(home, { recursive: true, force: true });
  });

  it('refuses an unknown pipeline and an input its schema refuses, naming the item, before queuing', async () => {
    const unknown = await api('POST', '/api/jobs', {
      type: 'pipeline-run',
      pipeline: 'no-such-pipeline',
      inputs: [{ input: { text: 'x' } }],
    });
    assert.equal(unknown.status, 400, unknown.text);
    assert.match(unknown.body.error.message, /^body\.pipeline: pipeline 'no-such-pipeline' does not exist/);
    const badInput = await api('POST', '/api/jobs', {
      type: 'pipeline-run',
      pipeline: 'language-router',
      inputs: [{ input: { text: 'fine' } }, { input: { text: 7 } }],
    });
    assert.equal(badInput.status, 400, badInput.text);
    assert.match(badInput.body.error.message, /^body\.inputs\[1\]: input\.text: /);
    const upload = await fetch(`${ensemble.url}/api/artifacts`, {
      method: 'POST',
      headers: { ...ensemble.auth, 'content-type': 'application/octet-stream' },
      body: `${JSON.stringify({ input: { text: 'fine' } })}\n${JSON.stringify({ text: 'no input field' })}\n`,
    });
    const { sha256 } = (await upload.json()) as { sha256: string };
    const badLine = await api('POST', '/api/jobs', {
      type: 'pipeline-run',
      pipeline: 'language-router',
      inputFile: sha256,
    });
    assert.equal(badLine.status, 400, badLine.text);
    assert.match(badLine.body.error.message, /^body\.inputFile line 2\.text: is not a field of a pipeline-run item/);
    const jobs = (await api('GET', '/api/jobs?type=pipeline-run')).body as { data: unknown[] };
    assert.equal(jobs.data.length, 0, 'nothing was queued');
  });

  it('language-router and summarize-map-reduce as jobs: a run per item (source job), traces step by step', async () => {
    // Generous item timeouts: on a loaded 2-core machine the local LLM can take minutes.
    const router = await api('POST', '/api/jobs', {
      type: 'pipeline-run',
      pipeline: 'language-router',
      itemTimeoutMs: 900_000,
      inputs: [
        { customId: 'fr', input: { text: 'Bonjour, quelle est la capitale de la France ?' } },
        { customId: 'en', input: { text: 'What is the capital of France?' } },
      ],
    });
    assert.equal(router.status, 201, router.text);
    const routerJob = router.body as JobJson;
    assert.deepEqual(routerJob.target, { type: 'pipeline', name: 'language-router', version: 1, kind: 'pipeline' });
    assert.equal(routerJob.model, 'language-router');
    const summarize = await api('POST', '/api/jobs', {
      type: 'pipeline-run',
      pipeline: 'summarize-map-reduce@1',
      itemTimeoutMs: 900_000,
      inputs: [
        {
          input: {
            text: 'Kafka keeps each partition in order.\n\nPostgreSQL stores the results, one per item.',
          },
        },
      ],
    });
    assert.equal(summarize.status, 201, summarize.text);

    const routerDone = await waitForJob(routerJob.id, ['completed', 'completed_with_errors']);
    assert.equal(routerDone.status, 'completed', JSON.stringify(await resultsOf(routerJob.id)));
    assert.deepEqual(routerDone.counts, { total: 2, succeeded: 2, failed: 0, pending: 0 });
    assert.ok(routerDone.usage.outputTokens > 0, 'the runs’ tokens add up in the job');
    const routerResults = await resultsOf(routerJob.id);
    assert.deepEqual(
      routerResults.map((line) => [line.index, line.customId, line.status]),
      [
        [0, 'fr', 'succeeded'],
        [1, 'en', 'succeeded'],
      ],
    );
    // One run per item (an attempt that timed out under load would add one: each attempt is a run).
    const runs = (await api('GET', `/api/runs?jobId=${routerJob.id}`)).body.data as RunJson[];
    assert.ok(runs.length >= 2, `${runs.length} runs`);
    for (const line of routerResults) {
      assert.ok(runs.some((each) => each.id === line.output?.runId && each.jobItem === line.index));
    }
    for (const line of routerResults) {
      const run = await runOf(line.output?.runId as string);
      assert.equal(run.status, 'succeeded');
      assert.equal(run.source, 'job');
      assert.equal(run.jobId, routerJob.id);
      assert.equal(run.jobItem, line.index);
      assert.equal(run.output, line.output?.output);
      const [language, branch] = run.steps;
      assert.equal(language?.kind, 'classify');
      assert.equal(language?.model, 'local/fasttext-lid-176@1');
      assert.equal((language?.output as { label: string } | undefined)?.label, line.customId);
      assert.equal(branch?.kind, 'branch');
      const answer = branch?.steps[0];
      assert.equal(answer?.path, line.customId === 'fr' ? 'answer/french' : 'answer/english');
      assert.equal(answer?.model, 'local/smollm2-135m-instruct@1');
      assert.equal(answer?.output, run.output);
      assert.ok(typeof run.output === 'string' && run.output.length > 0);
    }

    const summarizeId = (summarize.body as JobJson).id;
    const summarizeDone = await waitForJob(summarizeId, ['completed', 'completed_with_errors']);
    assert.equal(summarizeDone.status, 'completed', JSON.stringify(await resultsOf(summarizeId)));
    const [summary] = await resultsOf(summarizeId);
    const run = await runOf(summary?.output?.runId as string);
    assert.equal(run.source, 'job');
    assert.equal(run.pipeline, 'summarize-map-reduce');
    assert.deepEqual(
      run.steps.map((step) => [step.stepId, step.kind, step.status]),
      [
        ['chunks', 'transform', 'succeeded'],
        ['summaries', 'map', 'succeeded'],
        ['merged', 'model', 'succeeded'],
      ],
    );
    assert.equal((run.steps[0]?.output as string[] | undefined)?.length, 2);
    assert.deepEqual(
      run.steps[1]?.steps.map((step) => step.path),
      ['summaries[0]/summary', 'summaries[1]/summary'],
    );
    assert.equal(summary?.output?.output, run.output);
  });

  it('rag-qa and ensemble-vote as jobs: retrieval and a three-sample vote inside each item run', async () => {
    const submit = (pipeline: string, text: string) =>
      api('POST', '/api/jobs', {
        type: 'pipeline-run',
        pipeline,
        itemTimeoutMs: 900_000,
        inputs: [{ customId: pipeline, input: { text } }],
      });
    const rag = await submit(
      'rag-qa',
      'Which built-in local models run offline, like the language identification model?',
    );
    assert.equal(rag.status, 201, rag.text);
    const vote = await submit('ensemble-vote', 'What colour is the sky on a clear day?');
    assert.equal(vote.status, 201, vote.text);

    const ragId = (rag.body as JobJson).id;
    const ragDone = await waitForJob(ragId, ['completed', 'completed_with_errors']);
    assert.equal(ragDone.status, 'completed', JSON.stringify(await resultsOf(ragId)));
    const [ragLine] = await resultsOf(ragId);
    const ragRun = await runOf(ragLine?.output?.runId as string);
    assert.equal(ragRun.source, 'job');
    assert.equal(ragRun.jobId, ragId);
    assert.deepEqual(
      ragRun.steps.map((step) => [step.stepId, step.kind, step.status]),
      [
        ['documents', 'retrieve', 'succeeded'],
        ['context', 'transform', 'succeeded'],
        ['answer', 'model', 'succeeded'],
        ['cited', 'transform', 'succeeded'],
      ],
    );
    const documents = ragRun.steps[0]?.output as Array<{ id: string }>;
    assert.equal(documents.length, 2);
    assert.ok(
      documents.some((document) => document.id === 'local-models'),
      JSON.stringify(documents),
    );
    assert.equal(ragRun.steps[2]?.model, 'local/smollm2-135m-instruct@1');
    assert.match(ragLine?.output?.output as string, /\n\nSources: [a-z-]+, [a-z-]+$/);
    assert.equal(ragLine?.output?.output, ragRun.output);

    const voteId = (vote.body as JobJson).id;
    const voteDone = await waitForJob(voteId, ['completed', 'completed_with_errors']);
    assert.equal(voteDone.status, 'completed', JSON.stringify(await resultsOf(voteId)));
    const [voteLine] = await resultsOf(voteId);
    const voteRun = await runOf(voteLine?.output?.runId as string);
    assert.equal(voteRun.source, 'job');
    const answer = voteRun.steps.find((step) => step.stepId === 'answer');
    assert.equal(answer?.kind, 'parallel');
    assert.deepEqual(answer?.steps.map((step) => step.path).sort(), ['answer/cold', 'answer/hot', 'answer/warm']);
    assert.ok(
      answer?.steps.every((step) => step.status === 'succeeded' && step.model === 'local/smollm2-135m-instruct@1'),
    );
    // The majority answer is one of the three samples (ties go to the first branch).
    const samples = answer?.steps.map((step) => String(step.output).trim().toLowerCase()) ?? [];
    assert.ok(samples.includes(String(voteRun.output).trim().toLowerCase()), JSON.stringify({ samples, voteRun }));
    assert.equal(voteLine?.output?.output, voteRun.output);
  });

  it('a failed run fails its item alone (naming the run); retry-failed runs it again', async () => {
    const registered = await api('POST', '/api/models', {
      name: 'flip-chat',
      kind: 'chat',
      provider: 'openai-compatible',
      providerModelId: 'fake-chat',
      baseUrl: upstream.baseUrl,
    });
    assert.equal(registered.status, 201, registered.text);
    const created = await api('POST', '/api/pipelines', {
      name: 'echo-upstream',
      definition: {
        input: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
        steps: [{ id: 'answer', kind: 'model', model: 'flip-chat', prompt: '{{input.text}}' }],
      },
    });
    assert.equal(created.status, 201, created.text);
    upstream.failing = true;
    const submitted = await api('POST', '/api/jobs', {
      type: 'pipeline-run',
      pipeline: 'echo-upstream',
      retry: { maxAttempts: 1 },
      inputs: [{ input: { text: 'hello' } }, { input: { text: 'FAIL this one' } }],
    });
    assert.equal(submitted.status, 201, submitted.text);
    const id = (submitted.body as JobJson).id;
    const first = await waitForJob(id, ['completed', 'completed_with_errors']);
    assert.equal(first.status, 'completed_with_errors');
    assert.deepEqual(first.counts, { total: 2, succeeded: 1, failed: 1, pending: 0 });
    const [ok, failed] = await resultsOf(id);
    assert.equal(ok?.output?.output, 'echo: hello');
    assert.equal(failed?.status, 'failed');
    assert.equal(failed?.error?.code, 'upstream_bad_request');
    const failedRunId = /run (run_[A-Za-z0-9]{20}):/.exec(failed?.error?.message ?? '')?.[1];
    assert.ok(failedRunId, `the error names the run: ${failed?.error?.message}`);
    const failedRun = await runOf(failedRunId);
    assert.equal(failedRun.status, 'failed');
    assert.equal(failedRun.jobId, id);

    upstream.failing = false;
    const retried = await api('POST', `/api/jobs/${id}/retry-failed`);
    assert.equal(retried.status, 202, retried.text);
    const second = await waitForJob(id, ['completed']);
    assert.equal(second.round, 2);
    const lines = await resultsOf(id);
    assert.equal(lines[1]?.status, 'succeeded');
    assert.equal(lines[1]?.output?.output, 'echo: FAIL this one');
    const runs = (await api('GET', `/api/runs?jobId=${id}`)).body.data as RunJson[];
    assert.equal(runs.length, 3, 'two runs, then one more for the retried item');
    assert.equal(upstream.answered.get('hello'), 1, 'the item that succeeded did not run again');
  });
  it('a model step naming a route: accepted on save, the policy picks the model, the trace names it', async () => {
    for (const [name, baseUrl] of [
      ['route-dead', 'http://127.0.0.1:9/v1'],
      ['route-live', upstream.baseUrl],
    ] as const) {
      const registered = await api('POST', '/api/models', {
        name,
        kind: 'chat',
        provider: 'openai-compatible',
        providerModelId: 'fake-chat',
        baseUrl,
      });
      assert.equal(registered.status, 201, registered.text);
    }
    const route = await api('POST', '/api/routes', {
      name: 'step-route',
      policy: { strategy: 'fallback', targets: ['route-dead', 'route-live'] },
    });
    assert.equal(route.status, 201, route.text);
    const created = await api('POST', '/api/pipelines', {
      name: 'routed-step',
      definition: { steps: [{ id: 'answer', kind: 'model', model: 'step-route', prompt: '{{input.text}}' }] },
    });
    assert.equal(created.status, 201, created.text);
    const answered = await api('POST', '/api/pipelines/routed-step/run', { input: { text: 'via the route' } });
    assert.equal(answered.status, 200, answered.text);
    assert.equal(answered.body.output, 'echo: via the route');
    const run = await runOf(answered.body.runId);
    assert.deepEqual(
      run.steps.map((step) => [step.stepId, step.status, step.model]),
      [['answer', 'succeeded', 'route-live@1']],
      'the trace names the model that answered, after the fallback',
    );
    // The same pipeline as a job: the route runs inside each item's run too.
    const submitted = await api('POST', '/api/jobs', {
      type: 'pipeline-run',
      pipeline: 'routed-step',
      inputs: [{ input: { text: 'routed item' } }],
    });
    assert.equal(submitted.status, 201, submitted.text);
    const done = await waitForJob((submitted.body as JobJson).id, ['completed', 'completed_with_errors']);
    assert.equal(done.status, 'completed');
    const [line] = await resultsOf(done.id);
    assert.equal(line?.output?.output, 'echo: routed item');
    assert.equal((await runOf(line?.output?.runId as string)).steps[0]?.model, 'route-live@1');
  });
});
