import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { linkBuiltInArtifacts } from '../testing/built-in-artifacts.ts';
import { type EnsembleProcess, spawnEnsemble } from '../testing/ensemble-process.ts';
import { readSse } from '../testing/read-sse.ts';
import { waitForBuiltInModels } from '../testing/wait-for-built-in-models.ts';

interface StepNode {
  path: string;
  stepId: string;
  kind: string;
  status: string;
  model: string | null;
  output: unknown;
  input: unknown;
  outputTokens: number;
  latencyMs: number;
  attempt: number;
  steps: StepNode[];
}
interface RunJson {
  id: string;
  status: string;
  pipeline: string;
  version: number;
  source: string;
  shadowOf: string | null;
  output: unknown;
  inputTokens: number;
  outputTokens: number;
  steps: StepNode[];
}

// `ensemble start --examples` with the built-in local models (no network, no API key): the example
// pipelines run synchronously, streamed, and through the official openai SDK as `pipeline/<name>`,
// and their traces are checked step by step.
describe('example pipelines on the local models', { timeout: 600_000 }, () => {
  let home: string;
  let ensemble: EnsembleProcess;
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${ensemble.url}${path}`, {
      method,
      headers: { ...ensemble.auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) };
  };
  const runOf = async (id: string) => (await api('GET', `/api/runs/${id}`)).body as RunJson;

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'ensemble-pipelines-'));
    await chmod(home, 0o755);
    await linkBuiltInArtifacts(join(home, 'artifacts'));
    ensemble = await spawnEnsemble(['start', '--examples'], {
      ENSEMBLE_HOME: home,
      ENSEMBLE_BUILT_IN_MODELS: 'deploy',
      PIPELINE_TRACE_REDACT_KEYS: 'secret',
      // No periodic health calls on the local LLM: one in flight when the process stops can crash llama.cpp's teardown.
      MODEL_HEALTH_INTERVAL_MS: '0',
    });
    await waitForBuiltInModels(ensemble);
  });
  after(async () => {
    if (ensemble) assert.equal(await ensemble.stop('SIGTERM'), 0, ensemble.output());
    await rm(home, { recursive: true, force: true });
  });

  it('registers the examples, validates definitions naming the step, and keeps versions and aliases', async () => {
    const listed = await api('GET', '/api/pipelines');
    assert.deepEqual(
      (listed.body.data as Array<{ name: string }>).map((pipeline) => pipeline.name),
      ['ensemble-vote', 'language-router', 'rag-qa', 'summarize-map-reduce'],
    );
    const unknownKind = await api('POST', '/api/pipelines', {
      name: 'broken',
      definition: { steps: [{ id: 'a', kind: 'teleport' }] },
    });
    assert.equal(unknownKind.status, 400);
    assert.match(unknownKind.body.error.message, /^body\.definition\.steps\[0\]\.kind: unknown step kind/);
    const missingModel = await api('POST', '/api/pipelines', {
      name: 'broken',
      definition: { steps: [{ id: 'answer', kind: 'model', model: 'openai/gpt-9', prompt: 'hi' }] },
    });
    assert.equal(missingModel.status, 400);
    assert.match(missingModel.body.error.message, /step 'answer': names no model or route of project 'default'/);
    const badInput = await api('POST', '/api/pipelines/language-router/run', { input: { text: 7 } });
    assert.equal(badInput.status, 400);
    assert.match(badInput.body.error.message, /^input\.text: /);
    assert.equal((await api('POST', '/api/pipelines/nope/run', { input: {} })).status, 404);

    const created = await api('POST', '/api/pipelines', {
      name: 'greeter',
      definition: { steps: [{ id: 'hello', kind: 'prompt', template: 'Hello {{input.name}}' }] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const second = await api('POST', '/api/pipelines/greeter/versions', {
      definition: { steps: [{ id: 'hello', kind: 'prompt', template: 'Hi {{input.name}}!' }] },
    });
    assert.equal(second.body.version, 2);
    assert.equal((await api('PUT', '/api/pipelines/greeter/aliases/production', { version: 1 })).status, 200);
    const run = (ref: string) => api('POST', `/api/pipelines/${ref}/run`, { input: { name: 'Ada', secret: 's3' } });
    assert.equal((await run('greeter')).body.output, 'Hello Ada', 'a bare name runs production');
    assert.equal((await run('greeter@2')).body.output, 'Hi Ada!');
    assert.equal((await run('greeter:production')).body.output, 'Hello Ada');
    const traced = await runOf((await run('greeter@2')).body.runId);
    assert.deepEqual(
      traced.steps.map((step) => [step.path, step.status, step.output]),
      [['hello', 'succeeded', 'Hi Ada!']],
    );
    assert.deepEqual((traced as unknown as { input: unknown }).input, { name: 'Ada', secret: '[redacted]' });
  });

  it('canary: a bare name splits runs between versions; shadow: the candidate runs too, unseen', async () => {
    assert.equal(
      (await api('PUT', '/api/pipelines/greeter/rollout', { canary: { version: 2, percent: 50 } })).status,
      200,
    );
    const outputs: string[] = [];
    for (let index = 0; index < 40; index += 1) {
      outputs.push((await api('POST', '/api/pipelines/greeter/run', { input: { name: 'Bo' } })).body.output);
    }
    const canary = outputs.filter((output) => output === 'Hi Bo!').length;
    assert.ok(canary >= 8 && canary <= 32, `canary took ${canary} of 40`);
    assert.equal(outputs.filter((output) => output === 'Hello Bo').length, 40 - canary);

    await api('PUT', '/api/pipelines/greeter/rollout', { shadow: { version: 2 } });
    const primary = await api('POST', '/api/pipelines/greeter/run', { input: { name: 'Cy' } });
    assert.equal(primary.body.output, 'Hello Cy');
    let shadow: RunJson | undefined;
    for (let tries = 0; tries < 50 && shadow === undefined; tries += 1) {
      const runs = (await api('GET', '/api/runs?pipeline=greeter&limit=5')).body.data as RunJson[];
      shadow = runs.find((run) => run.shadowOf === primary.body.runId && run.status === 'succeeded');
      if (shadow === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(shadow?.source, 'shadow');
    assert.equal(shadow?.version, 2);
    assert.equal(shadow?.output, 'Hi Cy!');
  });

  it('language-router: classifies, branches, answers with the local model (sync), trace step by step', async () => {
    const answered = await api('POST', '/api/pipelines/language-router/run', {
      input: { text: 'Bonjour, quelle est la capitale de la France ?' },
    });
    assert.equal(answered.status, 200, JSON.stringify(answered.body));
    assert.equal(typeof answered.body.output, 'string');
    assert.ok(answered.body.output.length > 0);
    const run = await runOf(answered.body.runId);
    assert.equal(run.status, 'succeeded');
    const [language, branch] = run.steps;
    assert.equal(language?.kind, 'classify');
    assert.equal((language?.output as { label: string } | undefined)?.label, 'fr');
    assert.equal(language?.model, 'local/fasttext-lid-176@1');
    assert.equal(branch?.kind, 'branch');
    assert.deepEqual(branch?.input, { on: 'fr', case: 'fr' });
    const french = branch?.steps[0];
    assert.equal(french?.path, 'answer/french');
    assert.equal(french?.model, 'local/smollm2-135m-instruct@1');
    assert.ok((french?.outputTokens ?? 0) > 0);
    assert.equal(french?.output, answered.body.output);
    assert.ok(run.outputTokens >= (french?.outputTokens ?? 0));
  });

  it('rag-qa: retrieves from the example collection, answers with the local model, cites the sources', async () => {
    const answered = await api('POST', '/api/pipelines/rag-qa/run', {
      input: { text: 'Which built-in local models run offline, like the language identification model?' },
    });
    assert.equal(answered.status, 200, JSON.stringify(answered.body));
    assert.match(answered.body.output, /\n\nSources: [a-z-]+, [a-z-]+$/);
    const run = await runOf(answered.body.runId);
    assert.deepEqual(
      run.steps.map((step) => [step.stepId, step.kind, step.status]),
      [
        ['documents', 'retrieve', 'succeeded'],
        ['context', 'transform', 'succeeded'],
        ['answer', 'model', 'succeeded'],
        ['cited', 'transform', 'succeeded'],
      ],
    );
    const documents = run.steps[0]?.output as Array<{ id: string; text: string; score: number }>;
    assert.equal(documents.length, 2);
    assert.ok(
      documents.some((document) => document.id === 'local-models'),
      `the passage about local models is retrieved: ${JSON.stringify(documents)}`,
    );
    assert.ok(documents.every((document) => document.text.length > 0 && document.score > 0));
    assert.match(run.steps[1]?.output as string, /\[local-models\] Ensemble runs built-in local models/);
    assert.equal(run.steps[2]?.model, 'local/smollm2-135m-instruct@1');
    assert.ok(answered.body.output.startsWith(run.steps[2]?.output as string));
  });

  it('ensemble-vote, streamed: step events and tokens as SSE, three samples and a majority', async () => {
    const response = await fetch(`${ensemble.url}/api/pipelines/ensemble-vote/run`, {
      method: 'POST',
      headers: { ...ensemble.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ input: { text: 'What colour is the sky on a clear day?' }, stream: true }),
    });
    assert.equal(response.status, 200);
    const events = await readSse(response);
    assert.equal(events[0]?.event, 'run.started');
    const last = events.at(-1);
    assert.equal(last?.event, 'run.finished', JSON.stringify(last));
    assert.ok(events.some((event) => event.event === 'token'));
    const finished = events
      .filter((event) => event.event === 'step.finished')
      .map((event) => (event.data as { path: string }).path);
    assert.deepEqual(finished.sort(), ['answer', 'answer/cold', 'answer/hot', 'answer/warm', 'question']);
    const runId = (last?.data as { runId: string } | undefined)?.runId as string;
    const run = await runOf(runId);
    const vote = run.steps.find((step) => step.stepId === 'answer');
    assert.equal(vote?.steps.length, 3);
    const votes = (vote?.input as { votes: Record<string, number> } | undefined)?.votes ?? {};
    assert.equal(
      Object.values(votes).reduce((sum, count) => sum + count, 0),
      3,
    );
    assert.equal(run.output, (last?.data as { output: unknown } | undefined)?.output);
  });

  it('summarize-map-reduce through the openai SDK as pipeline/<name>, whole and streamed, and listed in /v1/models', async () => {
    const client = new OpenAI({ baseURL: `${ensemble.url}/v1`, apiKey: ensemble.adminKey as string });
    const models = await client.models.list();
    const ids = models.data.map((model) => model.id);
    for (const name of ['language-router', 'ensemble-vote', 'summarize-map-reduce'])
      assert.ok(ids.includes(`pipeline/${name}`));
    const text =
      'The river flooded the town after three days of rain.\n\nBy Sunday the water had gone down and shops reopened.';
    const completion = await client.chat.completions.create({
      model: 'pipeline/summarize-map-reduce',
      messages: [{ role: 'user', content: text }],
    });
    const content = completion.choices[0]?.message.content ?? '';
    assert.ok(content.length > 0);
    assert.equal(completion.model, 'pipeline/summarize-map-reduce');
    assert.ok((completion.usage?.completion_tokens ?? 0) > 0);
    const runs = (await api('GET', '/api/runs?pipeline=summarize-map-reduce&limit=1')).body.data as RunJson[];
    const run = await runOf(runs[0]?.id as string);
    assert.equal(run.source, 'gateway');
    assert.deepEqual(
      run.steps.map((step) => step.stepId),
      ['chunks', 'summaries', 'merged'],
    );
    assert.equal((run.steps[0]?.output as string[] | undefined)?.length, 2);
    assert.deepEqual(run.steps[1]?.steps.map((step) => step.path).sort(), [
      'summaries[0]/summary',
      'summaries[1]/summary',
    ]);
    assert.ok(
      run.steps[1]?.steps.every((step) => step.model === 'local/smollm2-135m-instruct@1' && step.outputTokens > 0),
    );
    assert.equal(run.steps[2]?.output, content);

    const stream = await client.chat.completions.create({
      model: 'pipeline/summarize-map-reduce',
      messages: [{ role: 'user', content: text }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let streamed = '';
    let chunks = 0;
    let usage: { completion_tokens: number } | undefined;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta.content;
      if (delta) {
        streamed += delta;
        chunks += 1;
      }
      if (chunk.usage) usage = chunk.usage;
    }
    assert.ok(chunks >= 2, 'the final step streamed token by token');
    assert.equal(streamed, content, 'the same answer (temperature 0), streamed');
    assert.ok((usage?.completion_tokens ?? 0) > 0);

    await assert.rejects(
      client.chat.completions.create({ model: 'pipeline/none', messages: [{ role: 'user', content: 'x' }] }),
      (error: InstanceType<typeof OpenAI.NotFoundError>) => error.status === 404,
    );
  });
  it('every example in every way: sync, streamed (SSE), and through the openai SDK whole and streamed', async () => {
    const examples: Array<[string, string, string[]]> = [
      ['language-router', 'Bonjour, quelle heure est-il ?', ['language', 'answer']],
      ['rag-qa', 'Which built-in local models run offline?', ['documents', 'context', 'answer', 'cited']],
      ['ensemble-vote', 'Is water wet? Yes or no.', ['question', 'answer']],
      [
        'summarize-map-reduce',
        'Rain fell for days.\n\nThe river rose, then went down.',
        ['chunks', 'summaries', 'merged'],
      ],
    ];
    const client = new OpenAI({ baseURL: `${ensemble.url}/v1`, apiKey: ensemble.adminKey as string });
    const listed = (await client.models.list()).data.map((model) => model.id);
    const checkRun = async (name: string, runId: string, steps: string[], source: string) => {
      const run = await runOf(runId);
      assert.equal(run.status, 'succeeded', `${name}: ${JSON.stringify(run)}`);
      assert.equal(run.pipeline, name);
      assert.equal(run.source, source);
      assert.deepEqual(
        run.steps.map((step) => [step.stepId, step.status]),
        steps.map((id) => [id, 'succeeded']),
        name,
      );
      return run;
    };
    const latestRunId = async (name: string) =>
      ((await api('GET', `/api/runs?pipeline=${name}&limit=1`)).body.data as RunJson[])[0]?.id as string;
    for (const [name, text, steps] of examples) {
      assert.ok(listed.includes(`pipeline/${name}`), `${name} is in /v1/models`);

      const sync = await api('POST', `/api/pipelines/${name}/run`, { input: { text } });
      assert.equal(sync.status, 200, `${name}: ${JSON.stringify(sync.body)}`);
      const syncRun = await checkRun(name, sync.body.runId, steps, 'api');
      assert.equal(syncRun.output, sync.body.output);

      const response = await fetch(`${ensemble.url}/api/pipelines/${name}/run`, {
        method: 'POST',
        headers: { ...ensemble.auth, 'content-type': 'application/json' },
        body: JSON.stringify({ input: { text }, stream: true }),
      });
      assert.equal(response.status, 200, name);
      const events = await readSse(response);
      assert.equal(events[0]?.event, 'run.started', name);
      const finished = events.at(-1);
      assert.equal(finished?.event, 'run.finished', `${name}: ${JSON.stringify(finished)}`);
      const finishedData = finished?.data as { runId: string; output: unknown } | undefined;
      const streamedRun = await checkRun(name, finishedData?.runId as string, steps, 'api');
      assert.deepEqual(finishedData?.output, streamedRun.output);
      const stepsFinished = events.filter((event) => event.event === 'step.finished').length;
      assert.ok(stepsFinished >= steps.length, `${name}: ${stepsFinished} step.finished events`);

      const completion = await client.chat.completions.create({
        model: `pipeline/${name}`,
        messages: [{ role: 'user', content: text }],
      });
      const content = completion.choices[0]?.message.content ?? '';
      assert.ok(content.length > 0, name);
      const sdkRun = await checkRun(name, await latestRunId(name), steps, 'gateway');
      assert.equal(typeof sdkRun.output === 'string' ? sdkRun.output : JSON.stringify(sdkRun.output), content, name);

      const stream = await client.chat.completions.create({
        model: `pipeline/${name}`,
        messages: [{ role: 'user', content: text }],
        stream: true,
      });
      let streamed = '';
      for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';
      const streamRun = await checkRun(name, await latestRunId(name), steps, 'gateway');
      assert.equal(
        typeof streamRun.output === 'string' ? streamRun.output : JSON.stringify(streamRun.output),
        streamed,
        `${name}: the streamed answer is the run's output`,
      );
    }
  });
});
