import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { issuesByStep, stepOfField } from './definition-issues.ts';

const definition = {
  steps: [
    { id: 'language', kind: 'classify' },
    {
      id: 'answer',
      kind: 'branch',
      cases: { fr: [{ id: 'french', kind: 'model', fallback: { id: 'plain', kind: 'model' } }] },
      default: [{ id: 'english', kind: 'model' }],
    },
    { id: 'vote', kind: 'parallel', branches: [{ id: 'cold' }, { id: 'hot' }] },
    { id: 'parts', kind: 'map', steps: [{ id: 'summary' }] },
  ],
};

describe("placing the API's validation issues on steps", () => {
  it('follows cases, defaults, branches, map bodies and fallbacks to the step at fault', () => {
    assert.deepEqual(stepOfField(definition, 'body.definition.steps[0].model'), { path: 'language', rest: 'model' });
    assert.deepEqual(stepOfField(definition, 'body.definition.steps[1].cases.fr[0].params.maxTokens'), {
      path: 'answer/french',
      rest: 'params.maxTokens',
    });
    assert.deepEqual(stepOfField(definition, 'body.definition.steps[1].cases.fr[0].fallback.model'), {
      path: 'answer/french~plain',
      rest: 'model',
    });
    assert.deepEqual(stepOfField(definition, 'body.definition.steps[1].default[0]'), {
      path: 'answer/english',
      rest: '',
    });
    assert.deepEqual(stepOfField(definition, 'definition.steps[2].branches[1].prompt'), {
      path: 'vote/hot',
      rest: 'prompt',
    });
    assert.deepEqual(stepOfField(definition, 'definition.steps[3].steps[0].model'), {
      path: 'parts/summary',
      rest: 'model',
    });
  });

  it('keeps issues about the definition itself, or a step that is not there, off the steps', () => {
    assert.deepEqual(issuesByStep(definition, [{ field: 'body.definition.output', message: 'bad' }]), [
      { path: null, field: 'body.definition.output', message: 'bad' },
    ]);
    assert.deepEqual(stepOfField(definition, 'body.definition.steps[9].model'), {
      path: null,
      rest: 'body.definition.steps[9].model',
    });
    // A case that is not an array: the issue stays on the branch.
    assert.deepEqual(stepOfField({ steps: [{ id: 'b', cases: { x: 'oops' } }] }, 'definition.steps[0].cases.x'), {
      path: 'b',
      rest: 'cases.x',
    });
  });
});
