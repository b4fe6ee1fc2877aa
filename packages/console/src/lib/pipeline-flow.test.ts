import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pipelineFlow } from './pipeline-flow.ts';
import { pipelineGraph } from './pipeline-graph.ts';

const edgesOf = (steps: Array<Record<string, unknown>>, nested = {}) =>
  pipelineFlow(pipelineGraph(steps, '', nested))
    .edges.map((edge) => `${edge.source} -> ${edge.target}${edge.label ? ` [${edge.label}]` : ''}`)
    .sort();

describe('the pipeline as React Flow nodes and edges', () => {
  it('chains steps in order, top to bottom', () => {
    const flow = pipelineFlow(
      pipelineGraph([
        { id: 'documents', kind: 'retrieve', collection: 'docs', query: 'input.text' },
        { id: 'answer', kind: 'model', model: 'local/smollm2' },
      ]),
    );
    assert.deepEqual(
      flow.nodes.map((node) => [node.id, node.position.x, node.position.y > 0]),
      [
        ['documents', 0, false],
        ['answer', 0, true],
      ],
    );
    assert.deepEqual(
      flow.edges.map((edge) => edge.id),
      ['documents->answer'],
    );
    // Every box has its size up front (React Flow shows a node only once it knows its size).
    assert.ok(flow.nodes.every((node) => node.width > 0 && node.height > 0));
  });

  it('fans a branch out into its cases, labelled, and joins them at the next step', () => {
    const steps = [
      { id: 'language', kind: 'classify', model: 'lid', input: 'input.text' },
      {
        id: 'answer',
        kind: 'branch',
        on: 'language',
        cases: { fr: [{ id: 'french', kind: 'model', model: 'm' }] },
        default: [
          { id: 'english', kind: 'model', model: 'm' },
          { id: 'polish', kind: 'transform', expression: 'english' },
        ],
      },
      { id: 'done', kind: 'transform', expression: 'answer' },
    ];
    assert.deepEqual(edgesOf(steps), [
      'answer -> answer/english [default]',
      'answer -> answer/french [= fr]',
      'answer/english -> answer/polish',
      'answer/french -> done',
      'answer/polish -> done',
      'language -> answer',
    ]);
    const flow = pipelineFlow(pipelineGraph(steps));
    const at = (id: string) => flow.nodes.find((node) => node.id === id)?.position;
    // The cases sit side by side under the branch, which is centred over them.
    assert.notEqual(at('answer/french')?.x, at('answer/english')?.x);
    assert.equal(at('answer/french')?.y, at('answer/english')?.y);
    assert.equal(at('answer')?.x, ((at('answer/french')?.x ?? 0) + (at('answer/english')?.x ?? 0)) / 2);
    assert.ok((at('done')?.y ?? 0) > (at('answer/polish')?.y ?? 0));
    assert.equal(flow.width > flow.nodes.length, true);
  });

  it('draws parallel branches (each one step), map bodies, a nested pipeline and a fallback', () => {
    const steps = [
      {
        id: 'vote',
        kind: 'parallel',
        branches: [
          { id: 'cold', kind: 'model', model: 'm' },
          { id: 'hot', kind: 'model', model: 'm' },
        ],
        aggregate: { strategy: 'vote' },
      },
      { id: 'parts', kind: 'map', over: 'input.items', steps: [{ id: 'summary', kind: 'model', model: 'm' }] },
      {
        id: 'qa',
        kind: 'pipeline',
        pipeline: 'rag-qa:production',
        fallback: { id: 'plain', kind: 'model', model: 'm' },
      },
    ];
    assert.deepEqual(edgesOf(steps, { 'rag-qa:production': [{ id: 'documents', kind: 'retrieve' }] }), [
      'parts -> parts/summary [each item]',
      'parts/summary -> qa',
      'qa -> qa/documents [runs rag-qa:production]',
      'qa -> qa~plain [on failure]',
      'vote -> vote/cold [branch 1]',
      'vote -> vote/hot [branch 2]',
      'vote/cold -> parts',
      'vote/hot -> parts',
    ]);
  });

  it('is empty for no steps, and survives a half-typed definition', () => {
    assert.deepEqual(pipelineFlow(pipelineGraph([])), { nodes: [], edges: [], width: 230, height: 0 });
    const flow = pipelineFlow(
      pipelineGraph([{ id: 'a', kind: 'branch', cases: { x: null } }, null] as unknown as Array<
        Record<string, unknown>
      >),
    );
    assert.deepEqual(
      flow.nodes.map((node) => node.id),
      ['a', '?'],
    );
  });
});
