import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EnsembleError } from '../errors/ensemble-error.ts';
import { defaultPipelineLimits } from './pipeline-limits.ts';
import type { PipelineSource } from './pipeline-ports.ts';
import { validatePipeline } from './validate-pipeline.ts';

const models = {
  kindOf: async (_project: string, ref: string) =>
    ({ 'local/chat': 'chat', 'local/emb': 'embedding', 'local/lid': 'classifier', 'my-route': 'route' })[ref],
};
const pipelines: PipelineSource = {
  resolve: async (_project, ref) => {
    const name = ref.split(/[@:]/)[0] as string;
    const calls = { a: 'b', b: 'c', c: 'saved' } as Record<string, string>;
    if (!(name in calls) && name !== 'leaf') return undefined;
    return {
      name,
      version: 1,
      definition: {
        steps:
          name === 'leaf'
            ? [{ id: 'x', kind: 'prompt', template: 'x' }]
            : [{ id: 'x', kind: 'pipeline', pipeline: calls[name] as string }],
      },
    };
  },
};

function check(definition: unknown, limits = defaultPipelineLimits) {
  return validatePipeline(definition, {
    projectId: 'default',
    name: 'saved',
    limits,
    models,
    pipelines,
    field: 'body.definition',
  });
}

async function issueOf(definition: unknown, limits = defaultPipelineLimits): Promise<string> {
  try {
    await check(definition, limits);
  } catch (error) {
    assert.equal((error as EnsembleError).code, 'validation_failed');
    return (error as EnsembleError).message;
  }
  assert.fail('the definition was accepted');
}

describe('validatePipeline', () => {
  it('accepts a sound definition and fills defaults', async () => {
    const definition = await check({
      steps: [
        { id: 'lang', kind: 'classify', model: 'local/lid', input: 'input.text' },
        { id: 'docs', kind: 'embed', model: 'local/emb', input: 'input.text' },
        { id: 'answer', kind: 'model', model: 'my-route', prompt: '{{input.text}} {{lang.label}}' },
        { id: 'nested', kind: 'pipeline', pipeline: 'leaf@1' },
      ],
    });
    assert.equal(definition.steps.length, 4);
  });

  it('names unknown kinds, missing models, models of the wrong kind and missing pipelines', async () => {
    assert.match(
      await issueOf({ steps: [{ id: 'a', kind: 'magic' }] }),
      /^body\.definition\.steps\[0\]\.kind: unknown step kind/,
    );
    assert.match(
      await issueOf({ steps: [{ id: 'a', kind: 'model', model: 'gpt-5', prompt: 'x' }] }),
      /^body\.definition\.steps\[0\]\.model: step 'a': names no model or route of project 'default': 'gpt-5'/,
    );
    assert.match(
      await issueOf({ steps: [{ id: 'a', kind: 'embed', model: 'local/chat', input: 'input' }] }),
      /step 'a': 'local\/chat' is a chat model, not an embedding model/,
    );
    assert.match(
      await issueOf({ steps: [{ id: 'a', kind: 'pipeline', pipeline: 'nope' }] }),
      /steps\[0\]\.pipeline: step 'a': names no pipeline of project 'default': 'nope'/,
    );
    assert.match(
      await issueOf({ steps: [{ id: 'a', kind: 'retrieve', collection: 'docs', query: 'input.q' }] }),
      /steps\[0\]\.collection: step 'a': this installation has no collections/,
    );
  });

  it('finds cycles through nested pipelines', async () => {
    assert.match(
      await issueOf({ steps: [{ id: 'a', kind: 'pipeline', pipeline: 'a:production' }] }),
      /step 'a': calls 'saved', which forms a cycle: saved → a → b → c → saved/,
    );
    assert.match(await issueOf({ steps: [{ id: 'me', kind: 'pipeline', pipeline: 'saved' }] }), /cycle: saved → saved/);
  });

  it('finds reads of state no earlier step writes, and type mismatches between steps', async () => {
    assert.match(
      await issueOf({
        steps: [
          { id: 'a', kind: 'prompt', template: '{{later}}' },
          { id: 'later', kind: 'prompt', template: 'x' },
        ],
      }),
      /steps\[0\]\.template: step 'a': reads 'later', which no earlier step writes/,
    );
    assert.match(
      await issueOf({
        steps: [
          { id: 'question', kind: 'prompt', template: '{{input.text}}' },
          { id: 'vec', kind: 'embed', model: 'local/emb', input: 'question' },
          { id: 'answer', kind: 'model', model: 'local/chat', input: 'vec' },
        ],
      }),
      /steps\[2\]\.input: step 'answer': reads 'vec', an embedding vector, where it needs a string or messages/,
    );
    assert.match(
      await issueOf({
        steps: [
          { id: 't', kind: 'prompt', template: 'x' },
          { id: 'each', kind: 'map', over: 't', steps: [{ id: 's', kind: 'prompt', template: '{{item}}' }] },
        ],
      }),
      /steps\[1\]\.over: step 'each': reads 't', a string, where it needs a list/,
    );
    assert.match(
      await issueOf({ steps: [{ id: 't', kind: 'transform', expression: '$count(' }] }),
      /steps\[0\]\.expression: step 't': not a valid JSONata expression/,
    );
    assert.match(
      await issueOf({
        steps: [
          { id: 't', kind: 'prompt', template: 'x' },
          { id: 't', kind: 'prompt', template: 'y' },
        ],
      }),
      /steps\[1\]\.id: step 't': the id is used twice/,
    );
  });

  it('refuses JSON Schemas it could not check inputs or answers against', async () => {
    assert.match(
      await issueOf({ input: { type: 'strang' }, steps: [{ id: 'a', kind: 'prompt', template: 'x' }] }),
      /^body\.definition\.input: not a JSON Schema Ensemble can check: Unsupported type: strang/,
    );
    assert.match(
      await issueOf({
        steps: [
          {
            id: 'a',
            kind: 'model',
            model: 'local/chat',
            prompt: 'x',
            schema: { type: 'object', properties: { a: { type: 'strang' } } },
          },
        ],
      }),
      /^body\.definition\.steps\[0\]\.schema: step 'a': not a JSON Schema Ensemble can check/,
    );
  });

  it('enforces the limits', async () => {
    const limits = { ...defaultPipelineLimits, maxSteps: 3, maxFanOut: 2, maxDepth: 2 };
    const prompt = (id: string) => ({ id, kind: 'prompt', template: 'x' });
    assert.match(
      await issueOf({ steps: [prompt('a'), prompt('b'), prompt('c'), prompt('d')] }, limits),
      /has 4 steps .*at most 3/,
    );
    assert.match(
      await issueOf(
        {
          steps: [
            {
              id: 'p',
              kind: 'parallel',
              branches: [prompt('a'), prompt('b'), prompt('c')],
              aggregate: { strategy: 'vote' },
            },
          ],
        },
        { ...limits, maxSteps: 10 },
      ),
      /steps\[0\]\.branches: step 'p': fans out to 3 branches; at most 2/,
    );
    assert.match(
      await issueOf(
        {
          steps: [
            {
              id: 'm',
              kind: 'map',
              over: 'input',
              concurrency: 1,
              steps: [{ id: 'n', kind: 'map', over: 'item', concurrency: 1, steps: [prompt('a')] }],
            },
          ],
        },
        { ...limits, maxSteps: 10 },
      ),
      /nested 3 levels deep; at most 2/,
    );
  });
});
