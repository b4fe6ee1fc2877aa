import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EnsembleError } from '../errors/ensemble-error.ts';
import type { Clock } from '../ports/clock.ts';
import type { PipelineDefinition } from './pipeline-definition.ts';
import { type PipelineEvent, PipelineExecutor } from './pipeline-executor.ts';
import { defaultPipelineLimits, type PipelineLimits } from './pipeline-limits.ts';
import type { PipelineChatCall, PipelineModels, PipelineSource } from './pipeline-ports.ts';
import { MemoryRunJournal } from './run-journal.ts';
import { StepCache } from './step-cache.ts';

const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(resolve, ms);
      signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(signal.reason);
      });
    }),
};

/** Deterministic models standing in for the registry's: answers are made from the prompt. */
class ScriptedModels implements PipelineModels {
  readonly calls: PipelineChatCall[] = [];
  failuresLeft = 0;
  delayMs = 0;
  answer: (call: PipelineChatCall) => string = (call) => `echo: ${call.messages.at(-1)?.content}`;

  async chat(call: PipelineChatCall) {
    this.calls.push(call);
    if (this.delayMs > 0) await realClock.sleep(this.delayMs, call.signal);
    if (this.failuresLeft > 0) {
      this.failuresLeft -= 1;
      throw new EnsembleError('upstream_error', 'the upstream is down');
    }
    const text = this.answer(call);
    for (const delta of text.split(/(?<= )/)) call.onToken?.(delta);
    return { text, usage: { model: `${call.model}@1`, inputTokens: 3, outputTokens: 2, costUsd: 0.001 } };
  }
  async embed(call: { texts: string[]; model: string }) {
    return {
      vectors: call.texts.map((text) => [text.length, 1]),
      usage: { model: `${call.model}@1`, inputTokens: 1, outputTokens: 0, costUsd: null },
    };
  }
  async classify(call: { text: string; model: string }) {
    const label = /[àâçéèêëîïôûùüÿœ]|bonjour/i.test(call.text) ? 'fr' : 'en';
    return {
      labels: [
        { label, score: 0.9 },
        { label: 'de', score: 0.1 },
      ],
      usage: { model: `${call.model}@1`, inputTokens: 0, outputTokens: 0, costUsd: null },
    };
  }
  async kindOf(_projectId: string, ref: string) {
    return ref.startsWith('chat')
      ? 'chat'
      : ref.startsWith('emb')
        ? 'embedding'
        : ref.startsWith('lid')
          ? 'classifier'
          : undefined;
  }
}

function executor(
  models: PipelineModels,
  options: { limits?: Partial<PipelineLimits>; pipelines?: PipelineSource } = {},
) {
  return new PipelineExecutor({
    models,
    clock: realClock,
    limits: { ...defaultPipelineLimits, ...options.limits },
    cache: new StepCache(),
    pipelines: options.pipelines,
  });
}

function run(exec: PipelineExecutor, definition: PipelineDefinition, input: unknown, journal = new MemoryRunJournal()) {
  const events: PipelineEvent[] = [];
  const result = exec.run(definition, {
    projectId: 'p',
    runId: 'run_1',
    input,
    journal,
    onEvent: (event) => events.push(event),
  });
  return { result, events, journal };
}

describe('PipelineExecutor', () => {
  it('runs steps in order over the state, each writing its output, with a trace per step', async () => {
    const models = new ScriptedModels();
    const { result, journal, events } = run(
      executor(models),
      {
        steps: [
          { id: 'question', kind: 'prompt', template: 'Q: {{input.text}}' },
          { id: 'answer', kind: 'model', model: 'chat/a', prompt: '{{question}}', params: { temperature: 0 } },
          { id: 'shout', kind: 'transform', expression: '$uppercase(answer)' },
        ],
      },
      { text: 'why?' },
    );
    const { output, state } = await result;
    assert.equal(output, 'ECHO: Q: WHY?');
    assert.equal(state.answer, 'echo: Q: why?');
    assert.deepEqual(models.calls[0]?.params, { temperature: 0 });
    const answer = journal.records.get('answer');
    assert.equal(answer?.status, 'succeeded');
    assert.equal(answer?.model, 'chat/a@1');
    assert.equal(answer?.inputTokens, 3);
    assert.deepEqual(answer?.input, { messages: [{ role: 'user', content: 'Q: why?' }] });
    assert.deepEqual(
      events
        .filter((event) => event.type === 'token')
        .map((event) => (event as { delta: string }).delta)
        .join(''),
      'echo: Q: why?',
    );
    assert.deepEqual(
      events
        .filter((event) => event.type !== 'token')
        .map((event) => `${event.type}:${'path' in event ? event.path : ''}`),
      [
        'step.started:question',
        'step.finished:question',
        'step.started:answer',
        'step.finished:answer',
        'step.started:shout',
        'step.finished:shout',
      ],
    );
  });

  it('classifies, branches on the label, maps with bounded concurrency, and votes', async () => {
    const models = new ScriptedModels();
    models.answer = (call) => (call.params.temperature === 1 ? 'Paris!' : 'paris');
    const definition: PipelineDefinition = {
      steps: [
        { id: 'lang', kind: 'classify', model: 'lid', input: 'input.text' },
        {
          id: 'routed',
          kind: 'branch',
          on: 'lang',
          cases: { fr: [{ id: 'fr', kind: 'prompt', template: 'FR {{input.text}}' }] },
          default: [{ id: 'other', kind: 'prompt', template: 'EN {{input.text}}' }],
        },
        { id: 'words', kind: 'transform', expression: '$split(input.text, " ")' },
        {
          id: 'lengths',
          kind: 'map',
          over: 'words',
          concurrency: 2,
          steps: [{ id: 'len', kind: 'transform', expression: '$length(item) & ":" & $string(index)' }],
        },
        {
          id: 'capital',
          kind: 'parallel',
          branches: [
            { id: 'a', kind: 'model', model: 'chat/a', prompt: 'capital?', params: { temperature: 0 } },
            { id: 'b', kind: 'model', model: 'chat/a', prompt: 'capital?', params: { temperature: 1 } },
            { id: 'c', kind: 'model', model: 'chat/a', prompt: 'capital?', params: { temperature: 0.5 } },
          ],
          aggregate: { strategy: 'vote' },
        },
      ],
    };
    const { result, journal } = run(executor(models), definition, { text: 'bonjour le monde' });
    const { state } = await result;
    assert.equal(state.routed, 'FR bonjour le monde');
    assert.deepEqual(state.lengths, ['7:0', '2:1', '5:2']);
    assert.equal(state.capital, 'paris');
    assert.equal(journal.records.get('routed/fr')?.parentPath, 'routed');
    assert.equal(journal.records.get('lengths[2]/len')?.output, '5:2');
    assert.deepEqual(journal.records.get('capital')?.input, { strategy: 'vote', votes: { paris: 3 } });
    assert.equal(journal.records.get('capital/b')?.output, 'Paris!');
  });

  it('aggregates with concat, first-success, fastest and a judge', async () => {
    const models = new ScriptedModels();
    models.answer = (call) => {
      const content = call.messages.at(-1)?.content ?? '';
      if (content.startsWith('Task:')) return 'I pick 2';
      return content;
    };
    const branches = [
      { id: 'x', kind: 'prompt' as const, template: 'one' },
      { id: 'y', kind: 'model' as const, model: 'chat/a', prompt: 'two' },
    ];
    const outputs: Record<string, unknown> = {};
    for (const strategy of ['concat', 'first-success', 'fastest', 'judge'] as const) {
      const { result } = run(
        executor(models),
        { steps: [{ id: 'p', kind: 'parallel', branches, aggregate: { strategy, model: 'chat/judge' } }] },
        { text: 'count' },
      );
      outputs[strategy] = (await result).output;
    }
    assert.deepEqual(outputs, { concat: 'one\n\ntwo', 'first-success': 'one', fastest: 'one', judge: 'two' });
  });

  it('retries a failing step, then falls back, and names the step when everything fails', async () => {
    const models = new ScriptedModels();
    models.failuresLeft = 2;
    const exec = executor(models);
    const retried = run(
      exec,
      { steps: [{ id: 'a', kind: 'model', model: 'chat/a', prompt: 'hi', retry: { maxAttempts: 3, delayMs: 1 } }] },
      {},
    );
    assert.equal((await retried.result).output, 'echo: hi');
    assert.equal(retried.journal.records.get('a')?.attempt, 3);
    assert.equal(retried.events.filter((event) => event.type === 'step.retrying').length, 2);

    models.failuresLeft = 1;
    const fellBack = run(
      exec,
      {
        steps: [
          {
            id: 'a',
            kind: 'model',
            model: 'chat/a',
            prompt: 'hi',
            fallback: { id: 'canned', kind: 'prompt', template: 'sorry' },
          },
        ],
      },
      {},
    );
    assert.equal((await fellBack.result).output, 'sorry');
    assert.equal(fellBack.journal.records.get('a~canned')?.status, 'succeeded');

    models.failuresLeft = 5;
    const failed = run(
      exec,
      {
        steps: [
          { id: 'first', kind: 'prompt', template: 'x' },
          { id: 'a', kind: 'model', model: 'chat/a', prompt: 'hi', retry: { maxAttempts: 2, delayMs: 0 } },
        ],
      },
      {},
    );
    await assert.rejects(failed.result, (error: EnsembleError) => {
      assert.equal(error.code, 'upstream_error');
      assert.match(error.message, /^step 'a' failed: the upstream is down/);
      assert.equal(error.details?.step, 'a');
      return true;
    });
    // The partial trace is kept: the first step succeeded, the failed one says why.
    assert.equal(failed.journal.records.get('first')?.status, 'succeeded');
    assert.deepEqual(failed.journal.records.get('a')?.error, {
      code: 'upstream_error',
      message: "step 'a' failed: the upstream is down",
    });
  });

  it('bounds a step by its timeout and a run by its own, and stops when cancelled', async () => {
    const models = new ScriptedModels();
    models.delayMs = 200;
    const exec = executor(models, { limits: { runTimeoutMs: 100 } });
    const slowStep = run(
      exec,
      { steps: [{ id: 'a', kind: 'model', model: 'chat/a', prompt: 'hi', timeoutMs: 20 }] },
      {},
    );
    await assert.rejects(slowStep.result, /step 'a' took longer than 20 ms/);
    const slowRun = run(exec, { steps: [{ id: 'a', kind: 'model', model: 'chat/a', prompt: 'hi' }] }, {});
    await assert.rejects(slowRun.result, /the run took longer than 100 ms/);
    const controller = new AbortController();
    const cancelled = exec.run(
      { steps: [{ id: 'a', kind: 'model', model: 'chat/a', prompt: 'hi' }] },
      { projectId: 'p', runId: 'r', input: {}, journal: new MemoryRunJournal(), signal: controller.signal },
    );
    setTimeout(() => controller.abort(new EnsembleError('request_timeout', 'cancelled by the test')), 10);
    await assert.rejects(cancelled, /cancelled by the test/);
  });

  it('resumes from its checkpoints: finished steps are not run again', async () => {
    const models = new ScriptedModels();
    const definition: PipelineDefinition = {
      steps: [
        { id: 'one', kind: 'model', model: 'chat/a', prompt: 'first' },
        {
          id: 'each',
          kind: 'map',
          over: '["a","b","c"]',
          steps: [{ id: 'say', kind: 'model', model: 'chat/a', prompt: 'say {{item}}' }],
        },
        { id: 'two', kind: 'model', model: 'chat/a', prompt: 'after {{one}}' },
      ],
    };
    const first = run(executor(models), definition, {});
    await first.result;
    assert.equal(models.calls.length, 5);
    // As if the process died after 'one' and two of the map's items: only those are kept.
    const kept = [...first.journal.records.values()].filter((record) =>
      ['one', 'each[0]/say', 'each[2]/say'].includes(record.path),
    );
    const resumed = run(executor(models), definition, {}, new MemoryRunJournal(kept));
    const { output } = await resumed.result;
    assert.equal(output, 'echo: after echo: first');
    assert.deepEqual(
      models.calls.slice(5).map((call) => call.messages[0]?.content),
      ['say b', 'after echo: first'],
    );
    assert.equal(resumed.events.filter((event) => event.type === 'step.finished' && event.resumed).length, 3);
  });

  it('checks the input against the schema, naming the field', async () => {
    const { result } = run(
      executor(new ScriptedModels()),
      {
        input: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
        steps: [{ id: 'a', kind: 'prompt', template: '{{input.text}}' }],
      },
      { text: 42 },
    );
    await assert.rejects(
      result,
      (error: EnsembleError) => error.code === 'validation_failed' && error.field === 'input.text',
    );
  });

  it('parses structured answers against the schema and retries when they do not match', async () => {
    const models = new ScriptedModels();
    let call = 0;
    models.answer = () => (call++ === 0 ? 'no json here' : 'Sure: {"sentiment": "positive", "score": 0.8}');
    const { result, journal } = run(
      executor(models),
      {
        steps: [
          {
            id: 'judge',
            kind: 'model',
            model: 'chat/a',
            prompt: 'rate it',
            retry: { maxAttempts: 2, delayMs: 0 },
            schema: {
              type: 'object',
              properties: { sentiment: { type: 'string' }, score: { type: 'number' } },
              required: ['sentiment'],
            },
          },
        ],
      },
      {},
    );
    assert.deepEqual((await result).output, { sentiment: 'positive', score: 0.8 });
    assert.equal(journal.records.get('judge')?.attempt, 2);
    assert.match(models.calls[0]?.messages[0]?.content ?? '', /JSON Schema/);
    assert.equal(models.calls[0]?.json, true);
  });

  it('runs nested pipelines and caches steps', async () => {
    const models = new ScriptedModels();
    const pipelines: PipelineSource = {
      resolve: async (_project, ref) =>
        ref === 'inner'
          ? {
              name: 'inner',
              version: 2,
              definition: { steps: [{ id: 'x', kind: 'model', model: 'chat/a', prompt: 'in {{input}}' }] },
            }
          : undefined,
    };
    const exec = executor(models, { pipelines });
    const definition: PipelineDefinition = {
      steps: [{ id: 'call', kind: 'pipeline', pipeline: 'inner', input: 'input.q', cache: { ttlMs: 60_000 } }],
    };
    const first = run(exec, definition, { q: 'hello' });
    assert.equal((await first.result).output, 'echo: in hello');
    assert.equal(first.journal.records.get('call/x')?.parentPath, 'call');
    const second = run(exec, definition, { q: 'hello' });
    assert.equal((await second.result).output, 'echo: in hello');
    assert.equal(second.journal.records.get('call')?.cached, true);
    assert.equal(models.calls.length, 1);
  });

  it('keeps runaway pipelines bounded and transforms away from the process', async () => {
    const exec = executor(new ScriptedModels(), { limits: { maxStepRuns: 10 } });
    const { result } = run(
      exec,
      { steps: [{ id: 'm', kind: 'map', over: '[1..20]', steps: [{ id: 's', kind: 'prompt', template: 'x' }] }] },
      {},
    );
    await assert.rejects(result, /more than 10 step runs/);
    const outOfReach = run(
      exec,
      { steps: [{ id: 't', kind: 'transform', expression: '$eval("process.exit(1)")' }] },
      {},
    );
    // JSONata's $eval reads JSONata, not JavaScript: `process` is just an absent field.
    assert.equal((await outOfReach.result).output, undefined);
  });
});
