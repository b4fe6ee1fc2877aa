import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EnsembleError } from '../errors/ensemble-error.ts';
import { parseRoutePolicy } from './parse-route-policy.ts';
import { policyLimits } from './policy-bounds.ts';
import { parseRoute } from './route.ts';

function failure(input: unknown): EnsembleError {
  try {
    parseRoutePolicy(input);
  } catch (error) {
    assert.ok(EnsembleError.isInstance(error));
    assert.equal(error.code, 'validation_failed');
    return error;
  }
  assert.fail('expected a validation error');
}

function nest(depth: number): unknown {
  let node: unknown = 'openai/gpt-4o-mini';
  for (let level = 1; level < depth; level += 1) node = { strategy: 'fallback', targets: [node] };
  return node;
}

describe('route policies', () => {
  it('accept each node kind, with a bare string as a single target, and fill in defaults', () => {
    const policy = parseRoutePolicy({
      strategy: 'conditional',
      conditions: [{ when: { 'metadata.plan': 'pro' }, use: 'openai/gpt-4o' }],
      default: {
        strategy: 'fallback',
        retry: { maxAttempts: 2 },
        circuitBreaker: {},
        fallbackOn: [429, '5xx', 'timeout'],
        targets: [
          { strategy: 'loadbalance', targets: [{ strategy: 'single', target: 'a', weight: 3 }, 'b'] },
          'anthropic/claude@2',
          'local/smollm:production',
        ],
      },
    });
    assert.equal(policy.strategy, 'conditional');
    assert.deepEqual(policy.conditions[0]?.use, { strategy: 'single', target: 'openai/gpt-4o' });
    const fallback = policy.default;
    assert.equal(fallback.strategy, 'fallback');
    assert.deepEqual(fallback.retry, {
      maxAttempts: 2,
      initialDelayMs: 200,
      backoffCoefficient: 2,
      maxDelayMs: 10_000,
      jitter: 'full',
      honourRetryAfter: true,
      maxRetryAfterMs: 30_000,
      on: ['retryable'],
    });
    assert.deepEqual(fallback.circuitBreaker, { failureThreshold: 5, windowMs: 60_000, cooldownMs: 30_000 });
    const balance = fallback.targets[0];
    assert.equal(balance?.strategy, 'loadbalance');
    assert.equal(balance.failover, false);
    assert.deepEqual(balance.targets[1], { strategy: 'single', target: 'b' });
  });

  it('name the offending path in errors', () => {
    const error = failure({
      strategy: 'fallback',
      targets: [
        'a',
        {
          strategy: 'conditional',
          conditions: [{ when: { 'params.max_tokens': { $gt: [1] } }, use: 'b' }],
          default: 'c',
        },
      ],
    });
    assert.equal(error.field, 'policy.targets[1].conditions[0].when.params.max_tokens.$gt');
    assert.match(error.message, /must be a number or a string/);

    assert.equal(failure({ strategy: 'fallback', targets: ['a', 'Not A Name'] }).field, 'policy.targets[1].target');
    assert.equal(failure({ strategy: 'roundrobin', targets: ['a'] }).field, 'policy.strategy');
    assert.equal(failure({ strategy: 'fallback', targets: [] }).field, 'policy.targets');
    assert.equal(
      failure({ strategy: 'single', target: 'a', retry: { maxAttempts: 0 } }).field,
      'policy.retry.maxAttempts',
    );
    assert.equal(failure({ strategy: 'single', target: 'a', fallbackOn: ['sometimes'] }).field, 'policy.fallbackOn[0]');
    assert.equal(failure({ strategy: 'single', target: 'a', extra: 1 }).field, 'policy');
    assert.equal(
      failure({ strategy: 'conditional', conditions: [{ when: {}, use: 'a' }] }).field,
      'policy.conditions[0].when',
    );
    assert.equal(
      failure({ strategy: 'conditional', conditions: [{ when: { 'metadata.a': 1 }, use: 'a' }] }).field,
      'policy.default',
    );
    assert.equal(
      failure({ strategy: 'conditional', conditions: [{ when: { 'body.a': 1 }, use: 'a' }], default: 'b' }).field,
      'policy.conditions[0].when.body.a',
    );
    assert.equal(
      failure({
        strategy: 'conditional',
        conditions: [{ when: { 'metadata.a': { $regex: '(' } }, use: 'a' }],
        default: 'b',
      }).field,
      'policy.conditions[0].when.metadata.a.$regex',
    );
    assert.equal(
      failure({ strategy: 'conditional', conditions: [{ when: { $nor: [] }, use: 'a' }], default: 'b' }).field,
      'policy.conditions[0].when.$nor',
    );
  });

  it('list every issue in details', () => {
    const error = failure({ strategy: 'fallback', targets: ['Bad', 'Worse'] });
    const issues = error.details?.issues as { path: string }[];
    assert.deepEqual(
      issues.map((issue) => issue.path),
      ['policy.targets[0].target', 'policy.targets[1].target'],
    );
  });

  it('bound nesting depth and the number of targets', () => {
    assert.doesNotThrow(() => parseRoutePolicy(nest(policyLimits.maxDepth)));
    const deep = failure(nest(policyLimits.maxDepth + 1));
    assert.match(deep.message, /deeper than 8 levels/);
    assert.equal(deep.field, `policy${'.targets[0]'.repeat(policyLimits.maxDepth)}`);
    assert.match(failure(nest(10_000)).message, /deeper than/); // bounded before the schema recurses

    const many = (count: number) => ({
      strategy: 'fallback',
      targets: Array.from({ length: 2 }, () => ({
        strategy: 'fallback',
        targets: Array.from({ length: count / 2 }, (_, index) => `m${index}`),
      })),
    });
    assert.doesNotThrow(() => parseRoutePolicy(many(policyLimits.maxTargets)));
    assert.match(failure(many(policyLimits.maxTargets + 2)).message, /at most 64 targets/);
  });

  it('keep weights to loadbalance children and need one above zero', () => {
    assert.equal(
      failure({ strategy: 'fallback', targets: [{ strategy: 'single', target: 'a', weight: 2 }] }).field,
      'policy.targets[0].weight',
    );
    assert.equal(
      failure({ strategy: 'loadbalance', targets: [{ strategy: 'single', target: 'a', weight: 0 }] }).field,
      'policy.targets',
    );
    assert.equal(
      failure({ strategy: 'loadbalance', targets: [{ strategy: 'single', target: 'a', weight: -1 }] }).field,
      'policy.targets[0].weight',
    );
  });

  it('parse whole routes with paths under route.policy', () => {
    const route = parseRoute({ name: 'chat/default', version: 1, policy: 'openai/gpt-4o-mini' });
    assert.deepEqual(route, {
      name: 'chat/default',
      version: 1,
      policy: { strategy: 'single', target: 'openai/gpt-4o-mini' },
      description: '',
    });
    assert.ok(Object.isFrozen(route));
    assert.throws(() => parseRoute({ name: 'x', version: 1, policy: { strategy: 'fallback', targets: ['A'] } }), {
      field: 'route.policy.targets[0].target',
    });
    assert.throws(() => parseRoute({ name: 'x', version: 0, policy: 'a' }), { field: 'route.version' });
    assert.throws(() => parseRoute({ name: 'x', version: 1, policy: nest(9) }), {
      field: `route.policy${'.targets[0]'.repeat(8)}`,
    });
  });
});
