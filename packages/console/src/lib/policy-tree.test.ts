import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePolicyText, policyView } from './policy-tree.ts';

describe('the policy tree view', () => {
  it('draws a bare name as a single node', () => {
    assert.deepEqual(policyView('openai/gpt-4o-mini'), {
      strategy: 'single',
      target: 'openai/gpt-4o-mini',
      settings: [],
      children: [],
    });
  });

  it('orders a fallback chain and shows its settings', () => {
    const view = policyView({
      strategy: 'fallback',
      fallbackOn: [429, '5xx'],
      timeoutMs: 2000,
      retry: { maxAttempts: 3 },
      targets: ['a', 'b'],
    });
    assert.deepEqual(view.settings, ['timeout 2000 ms', 'retry ×3', 'falls back on 429, 5xx']);
    assert.deepEqual(
      view.children.map((child) => [child.edge, child.node.target]),
      [
        ['first', 'a'],
        ['then 2', 'b'],
      ],
    );
  });

  it('turns load-balancing weights into shares and nests conditional branches', () => {
    const view = policyView({
      strategy: 'conditional',
      conditions: [
        {
          when: { 'metadata.plan': 'enterprise' },
          use: {
            strategy: 'loadbalance',
            targets: [
              { strategy: 'single', target: 'x', weight: 3 },
              { strategy: 'single', target: 'y', weight: 1 },
            ],
          },
        },
      ],
      default: 'z',
    });
    assert.equal(view.children[0]?.edge, 'when {"metadata.plan":"enterprise"}');
    assert.deepEqual(
      view.children[0]?.node.children.map((child) => child.edge),
      ['75%', '25%'],
    );
    assert.deepEqual([view.children[1]?.edge, view.children[1]?.node.target], ['otherwise', 'z']);
  });

  it('explains an editor text that is not a policy', () => {
    assert.match((parsePolicyText('{"strategy": ') as { error: string }).error, /^Not valid JSON/);
    assert.match((parsePolicyText('[1]') as { error: string }).error, /model name in quotes/);
    assert.deepEqual(parsePolicyText('"m"'), { policy: 'm' });
  });
});
