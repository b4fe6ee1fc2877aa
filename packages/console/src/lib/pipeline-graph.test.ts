import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyRunEvent, graphPath, pipelineGraph, statesFromTrace } from './pipeline-graph.ts';

const definition = [
  { id: 'language', kind: 'classify', model: 'local/fasttext-lid-176', input: 'input.text' },
  {
    id: 'answer',
    kind: 'branch',
    on: 'language',
    cases: { fr: [{ id: 'french', kind: 'model', model: 'local/smollm2' }] },
    default: [{ id: 'english', kind: 'model', model: 'local/smollm2' }],
  },
  { id: 'parts', kind: 'map', over: 'input.items', steps: [{ id: 'summary', kind: 'model', model: 'm' }] },
];

describe('the pipeline graph', () => {
  it('nests branch cases and map steps under their step, with their paths', () => {
    const graph = pipelineGraph(definition);
    assert.deepEqual(
      graph.map((node) => [node.path, node.kind, node.detail]),
      [
        ['language', 'classify', 'local/fasttext-lid-176'],
        ['answer', 'branch', 'on language'],
        ['parts', 'map', 'over input.items'],
      ],
    );
    assert.deepEqual(
      graph[1]?.groups.map((group) => [group.label, group.steps.map((step) => step.path)]),
      [
        ['= fr', ['answer/french']],
        ['default', ['answer/english']],
      ],
    );
    assert.equal(graph[2]?.groups[0]?.steps[0]?.path, 'parts/summary');
  });

  it('lights boxes from run events, every map item on the same box', () => {
    assert.equal(graphPath('parts[3]/summary'), 'parts/summary');
    let states = applyRunEvent({}, { type: 'step.started', path: 'language' });
    assert.equal(states.language?.status, 'running');
    states = applyRunEvent(states, {
      type: 'step.finished',
      path: 'language',
      status: 'succeeded',
      latencyMs: 40,
      output: { label: 'fr' },
    });
    assert.deepEqual(states.language, { status: 'succeeded', count: 1, latencyMs: 40, output: { label: 'fr' } });
    states = applyRunEvent(states, { type: 'step.started', path: 'parts[0]/summary' });
    states = applyRunEvent(states, { type: 'step.started', path: 'parts[1]/summary' });
    assert.equal(states['parts/summary']?.count, 2);
    states = applyRunEvent(states, {
      type: 'step.finished',
      path: 'answer/french',
      status: 'failed',
      error: { message: 'boom' },
    });
    assert.deepEqual(states['answer/french'], { status: 'failed', count: 1, error: 'boom' });
  });

  it('shows a model step streaming: the answer so far and the pieces counted', () => {
    let states = applyRunEvent({}, { type: 'step.started', path: 'answer' });
    states = applyRunEvent(states, { type: 'token', path: 'answer', delta: 'Bon' });
    states = applyRunEvent(states, { type: 'token', path: 'answer', delta: 'jour' });
    assert.deepEqual(states.answer, { status: 'running', count: 1, tokens: 2, output: 'Bonjour' });
    states = applyRunEvent(states, {
      type: 'step.finished',
      path: 'answer',
      status: 'succeeded',
      latencyMs: 300,
      output: 'Bonjour !',
    });
    assert.deepEqual(states.answer, { status: 'succeeded', count: 1, latencyMs: 300, output: 'Bonjour !', tokens: 2 });
  });

  it("lights boxes from a stored run's step tree", () => {
    const states = statesFromTrace([
      {
        path: 'answer',
        status: 'succeeded',
        latencyMs: 900,
        output: 'x',
        error: null,
        steps: [{ path: 'answer/french', status: 'succeeded', latencyMs: 850, output: 'x', error: null, steps: [] }],
      },
    ]);
    assert.deepEqual(Object.keys(states).sort(), ['answer', 'answer/french']);
    assert.equal(states['answer/french']?.latencyMs, 850);
  });
});
