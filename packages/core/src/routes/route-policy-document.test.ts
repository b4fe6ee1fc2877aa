import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRoutePolicy } from '../routing/parse-route-policy.ts';
import { distinctTargets, policyTargets } from './policy-targets.ts';
import { routePolicyDocumentSchema } from './route-policy-document.ts';
import { newRouteSchema } from './stored-route.ts';

const policy = {
  strategy: 'conditional',
  conditions: [
    { when: { 'metadata.plan': 'pro', 'params.max_tokens': { $gt: 1000 } }, use: 'openai/gpt-4o' },
    { when: { $or: [{ 'key.tags': { $in: ['batch'] } }, { 'headers.x-region': { $regex: '^eu-' } }] }, use: 'b' },
  ],
  default: {
    strategy: 'fallback',
    retry: { maxAttempts: 2 },
    targets: [
      { strategy: 'loadbalance', targets: [{ strategy: 'single', target: 'a', weight: 3 }, 'openai/gpt-4o'] },
      'anthropic/claude@2',
      'local/smollm:production',
    ],
  },
};

describe('route policy documents', () => {
  it('validate like parseRoutePolicy, and a parsed policy parses to itself (what storage relies on)', () => {
    const parsed = routePolicyDocumentSchema.parse(policy);
    assert.deepEqual(parsed, parseRoutePolicy(policy));
    const stored = JSON.parse(JSON.stringify(parsed));
    assert.deepEqual(routePolicyDocumentSchema.parse(stored), parsed);
    assert.deepEqual(parseRoutePolicy(stored), parsed);
  });

  it('name the failing place inside the body, bounds first', () => {
    const bad = newRouteSchema.safeParse({ name: 'r', policy: { strategy: 'fallback', targets: ['a', 'Bad Name'] } });
    assert.equal(bad.success, false);
    assert.deepEqual(bad.error?.issues[0]?.path, ['policy', 'targets', 1, 'target']);

    let deep: unknown = 'a';
    for (let level = 0; level < 50; level += 1) deep = { strategy: 'fallback', targets: [deep] };
    const tooDeep = newRouteSchema.safeParse({ name: 'r', policy: deep });
    assert.equal(tooDeep.error?.issues.length, 1);
    assert.match(tooDeep.error?.issues[0]?.message ?? '', /nests deeper than 8 levels/);

    const weight = newRouteSchema.safeParse({ name: 'r', policy: { strategy: 'single', target: 'a', weight: 2 } });
    assert.deepEqual(weight.error?.issues[0]?.path, ['policy', 'weight']);
  });

  it('list every target with its path, in document order', () => {
    const parsed = parseRoutePolicy(policy);
    assert.deepEqual(policyTargets(parsed), [
      { path: 'conditions[0].use.target', target: 'openai/gpt-4o' },
      { path: 'conditions[1].use.target', target: 'b' },
      { path: 'default.targets[0].targets[0].target', target: 'a' },
      { path: 'default.targets[0].targets[1].target', target: 'openai/gpt-4o' },
      { path: 'default.targets[1].target', target: 'anthropic/claude@2' },
      { path: 'default.targets[2].target', target: 'local/smollm:production' },
    ]);
    assert.deepEqual(distinctTargets(parsed), [
      'openai/gpt-4o',
      'b',
      'a',
      'anthropic/claude@2',
      'local/smollm:production',
    ]);
    assert.deepEqual(policyTargets(parseRoutePolicy('m')), [{ path: 'target', target: 'm' }]);
  });
});
