import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EnsembleError } from '../errors/ensemble-error.ts';
import { drive, flush, httpError } from './drive-clock.test-helper.ts';
import { createInMemoryBreakerRegistry } from './in-memory-breaker-registry.ts';
import { createManualClock } from './manual-clock.ts';
import { parseRoutePolicy } from './parse-route-policy.ts';
import type { AttemptInfo } from './policy-runner.ts';
import { createSeededRandom, type RandomSource } from './random-source.ts';
import type { RoutePolicy, RoutePolicyInput } from './route-policy.ts';
import type { RouteTrace } from './route-trace.ts';
import { createRouter } from './router.ts';

type Step = string | Error | 'hang';

/** Attempts that follow a script per target; each call takes the next step (the last one repeats). */
function scripted(plan: Record<string, Step[]>) {
  const calls: { target: string; signal: AbortSignal; info: AttemptInfo }[] = [];
  const attempt = (target: string, signal: AbortSignal, info: AttemptInfo): Promise<string> => {
    calls.push({ target, signal, info });
    const steps = plan[target] ?? [`answer from ${target}`];
    const count = calls.filter((call) => call.target === target).length;
    const step = steps[Math.min(count, steps.length) - 1];
    if (step === 'hang') return new Promise<string>(() => {});
    if (step instanceof Error) return Promise.reject(step);
    return Promise.resolve(step ?? target);
  };
  return { attempt, calls, targets: () => calls.map((call) => call.target) };
}

function setup(random: RandomSource = () => 0.5) {
  const clock = createManualClock(1_000);
  const breakers = createInMemoryBreakerRegistry({ clock });
  const router = createRouter({ clock, random, breakers });
  return { clock, breakers, router };
}

const policy = (input: RoutePolicyInput): RoutePolicy => parseRoutePolicy(input);

function traceOf(error: EnsembleError): RouteTrace {
  return (error.details?.trace ?? []) as RouteTrace;
}

async function rejection(promise: Promise<unknown>): Promise<EnsembleError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(EnsembleError.isInstance(error), String(error));
    return error;
  }
  assert.fail('expected a rejection');
}

describe('router: fallback', () => {
  it('falls back on a 5xx and traces both attempts', async () => {
    const { router, clock } = setup();
    const { attempt, targets } = scripted({ a: [httpError(503)], b: ['B'] });
    const result = await drive(clock, router.route(policy({ strategy: 'fallback', targets: ['a', 'b'] }), {}, attempt));
    assert.equal(result.result, 'B');
    assert.equal(result.target, 'b');
    assert.deepEqual(targets(), ['a', 'b']);
    assert.deepEqual(result.trace, [
      {
        target: 'a',
        path: 'policy.targets[0]',
        attempt: 1,
        startedAt: 1_000,
        endedAt: 1_000,
        outcome: 'failure',
        errorCode: 'upstream_error',
        status: 503,
        message: 'upstream answered 503',
        retryDelayMs: 0,
      },
      {
        target: 'b',
        path: 'policy.targets[1]',
        attempt: 1,
        startedAt: 1_000,
        endedAt: 1_000,
        outcome: 'success',
        retryDelayMs: 0,
      },
    ]);
  });

  it('falls back on a timeout, aborting the slow attempt’s signal', async () => {
    const { router, clock } = setup();
    const { attempt, calls } = scripted({ a: ['hang'], b: ['B'] });
    const route = policy({ strategy: 'fallback', timeoutMs: 1_500, targets: ['a', 'b'] });
    const result = await drive(clock, router.route(route, {}, attempt));
    assert.equal(result.target, 'b');
    const slow = calls[0];
    assert.ok(slow?.signal.aborted);
    assert.equal((slow.signal.reason as EnsembleError).code, 'timeout');
    assert.equal(slow.info.timeoutMs, 1_500);
    assert.deepEqual(
      result.trace.map((record) => [
        record.outcome,
        record.errorCode,
        record.status,
        record.endedAt - record.startedAt,
      ]),
      [
        ['timeout', 'timeout', 504, 1_500],
        ['success', undefined, undefined, 0],
      ],
    );
    assert.equal(clock.pendingSleeps(), 0, 'no timer is left behind');
  });

  it('rejects with timeout (504) when the only target times out', async () => {
    const { router, clock } = setup();
    const { attempt } = scripted({ a: ['hang'] });
    const error = await rejection(
      drive(clock, router.route(policy({ strategy: 'single', target: 'a', timeoutMs: 10 }), {}, attempt)),
    );
    assert.equal(error.code, 'timeout');
    assert.equal(error.httpStatus, 504);
    assert.equal(traceOf(error).length, 1);
  });

  it('falls back on 429 and on error codes listed in fallbackOn', async () => {
    const { router, clock } = setup();
    const { attempt } = scripted({
      a: [httpError(429)],
      b: [new EnsembleError('upstream_auth_failed', 'bad key')],
      c: ['C'],
    });
    const route = policy({ strategy: 'fallback', fallbackOn: [429, 'upstream_auth_failed'], targets: ['a', 'b', 'c'] });
    assert.equal((await drive(clock, router.route(route, {}, attempt))).target, 'c');
  });

  it('does not retry or fall back on a 400: the request is wrong, not the upstream', async () => {
    const { router, clock } = setup();
    const { attempt, targets } = scripted({ a: [httpError(400)] });
    const route = policy({ strategy: 'fallback', retry: { maxAttempts: 3 }, targets: ['a', 'b'] });
    const error = await rejection(drive(clock, router.route(route, {}, attempt)));
    assert.deepEqual(targets(), ['a']);
    assert.equal(error.code, 'upstream_bad_request');
    assert.equal(error.httpStatus, 400);
    assert.equal(error.message, 'upstream answered 400');
    assert.equal(error.details?.attempts, 1);
  });

  it('rejects with the last real failure and the whole trace', async () => {
    const { router, clock } = setup();
    const { attempt } = scripted({ a: [httpError(500)], b: ['hang'] });
    const route = policy({ strategy: 'fallback', timeoutMs: 100, targets: ['a', 'b'] });
    const error = await rejection(drive(clock, router.route(route, {}, attempt)));
    assert.equal(error.code, 'timeout');
    assert.equal(error.message, 'b did not answer within 100 ms (after 2 attempts)');
    assert.deepEqual(
      traceOf(error).map((record) => record.target),
      ['a', 'b'],
    );
  });
});

describe('router: retry', () => {
  it('retries with exact backoff delays under a fixed random, then gives up with upstream_error', async () => {
    const { router, clock } = setup(() => 0.5);
    const { attempt, calls } = scripted({ a: [httpError(502)] });
    const route = policy({
      strategy: 'single',
      target: 'a',
      retry: { maxAttempts: 4, initialDelayMs: 100, backoffCoefficient: 3, maxDelayMs: 500 },
    });
    const error = await rejection(drive(clock, router.route(route, {}, attempt)));
    assert.equal(calls.length, 4);
    assert.deepEqual(
      calls.map((call) => call.info.attempt),
      [1, 2, 3, 4],
    );
    const trace = traceOf(error);
    assert.deepEqual(
      trace.map((record) => record.retryDelayMs),
      [0, 50, 150, 250],
    );
    assert.deepEqual(
      trace.map((record) => record.startedAt),
      [1_000, 1_050, 1_200, 1_450],
    );
    assert.equal(error.code, 'upstream_error');
    assert.equal(error.httpStatus, 502);
    assert.equal(error.details?.attempts, 4);
  });

  it('without jitter the delays are the capped exponential ones', async () => {
    const { router, clock } = setup();
    const { attempt } = scripted({ a: [httpError(503), httpError(503), httpError(503), 'ok'] });
    const route = policy({
      strategy: 'single',
      target: 'a',
      retry: { maxAttempts: 4, initialDelayMs: 100, backoffCoefficient: 3, maxDelayMs: 500, jitter: 'none' },
    });
    const result = await drive(clock, router.route(route, {}, attempt));
    assert.equal(result.result, 'ok');
    assert.deepEqual(
      result.trace.map((record) => record.retryDelayMs),
      [0, 100, 300, 500],
    );
  });

  it('waits exactly what Retry-After says on a 429, capped', async () => {
    const { router, clock } = setup();
    const { attempt } = scripted({
      a: [httpError(429, { 'retry-after': '3' }), httpError(429, { 'retry-after': '120' }), 'ok'],
    });
    const route = policy({ strategy: 'single', target: 'a', retry: { maxAttempts: 3, maxRetryAfterMs: 5_000 } });
    const result = await drive(clock, router.route(route, {}, attempt));
    assert.deepEqual(
      result.trace.map((record) => [record.retryDelayMs, record.errorCode]),
      [
        [0, 'rate_limited'],
        [3_000, 'rate_limited'],
        [5_000, undefined],
      ],
    );
    assert.equal(clock.now(), 1_000 + 8_000);
  });

  it('reads Retry-After from EnsembleError and from retry-after-ms, and passes it on when giving up', async () => {
    const { router, clock } = setup();
    const limited = new EnsembleError('rate_limited', 'slow down', { retryAfterSeconds: 2 });
    const sdk = httpError(429, { 'retry-after-ms': '750' });
    const { attempt } = scripted({ a: [limited, sdk] });
    const route = policy({ strategy: 'single', target: 'a', retry: { maxAttempts: 3 } });
    const error = await rejection(drive(clock, router.route(route, {}, attempt)));
    assert.deepEqual(
      traceOf(error).map((record) => record.retryDelayMs),
      [0, 2_000, 750],
    );
    assert.equal(error.code, 'rate_limited');
    assert.equal(error.retryAfterSeconds, 1);
  });

  it('retries only the outcomes retry.on lists', async () => {
    const { router, clock } = setup();
    const { attempt, calls } = scripted({ a: [httpError(500)] });
    const route = policy({ strategy: 'single', target: 'a', retry: { maxAttempts: 3, on: [503] } });
    await rejection(drive(clock, router.route(route, {}, attempt)));
    assert.equal(calls.length, 1);
  });

  it('inherits retry and timeout from ancestors, nearest wins', async () => {
    const { router, clock } = setup();
    const { attempt, calls } = scripted({ a: [httpError(503)], b: [httpError(503)], c: ['C'] });
    const route = policy({
      strategy: 'fallback',
      retry: { maxAttempts: 2, initialDelayMs: 0 },
      timeoutMs: 50,
      targets: [
        'a',
        { strategy: 'single', target: 'b', retry: { maxAttempts: 3, initialDelayMs: 0 }, timeoutMs: 70 },
        'c',
      ],
    });
    await drive(clock, router.route(route, {}, attempt));
    assert.deepEqual(
      calls.map((call) => [call.target, call.info.timeoutMs]),
      [
        ['a', 50],
        ['a', 50],
        ['b', 70],
        ['b', 70],
        ['b', 70],
        ['c', 50],
      ],
    );
  });
});

describe('router: loadbalance', () => {
  it('splits traffic by weight within tolerance over 10,000 calls (chi-square)', async () => {
    const { router } = setup(createSeededRandom(42));
    const route = policy({
      strategy: 'loadbalance',
      targets: [
        { strategy: 'single', target: 'a', weight: 70 },
        { strategy: 'single', target: 'b', weight: 20 },
        { strategy: 'single', target: 'c', weight: 10 },
        { strategy: 'single', target: 'never', weight: 0 },
      ],
    });
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    const attempt = async (target: string) => target;
    for (let call = 0; call < 10_000; call += 1) {
      const { target } = await router.route(route, {}, attempt);
      counts[target] = (counts[target] ?? 0) + 1;
    }
    const expected: Record<string, number> = { a: 7_000, b: 2_000, c: 1_000 };
    let chiSquare = 0;
    for (const [target, count] of Object.entries(counts)) {
      const wanted = expected[target] ?? 0;
      chiSquare += (count - wanted) ** 2 / wanted;
      assert.ok(Math.abs(count / 10_000 - wanted / 10_000) < 0.02, `${target}: ${count}`);
    }
    assert.equal(counts.never, undefined);
    assert.ok(chiSquare < 13.82, `chi-square ${chiSquare} (df 2, p 0.001)`);
  });

  it('fails over among the remaining children only when the node says so', async () => {
    const route = (failover: boolean) => policy({ strategy: 'loadbalance', failover, targets: ['a', 'b', 'c'] });
    {
      const { router, clock } = setup(() => 0);
      const { attempt, targets } = scripted({ a: [httpError(503)], b: [httpError(503)] });
      const result = await drive(clock, router.route(route(true), {}, attempt));
      assert.deepEqual(targets(), ['a', 'b', 'c']);
      assert.equal(result.target, 'c');
    }
    {
      const { router, clock } = setup(() => 0);
      const { attempt, targets } = scripted({ a: [httpError(503)] });
      const error = await rejection(drive(clock, router.route(route(false), {}, attempt)));
      assert.deepEqual(targets(), ['a']);
      assert.equal(error.code, 'upstream_error');
    }
  });
});

describe('router: conditional routing and nesting', () => {
  const route = policy({
    strategy: 'conditional',
    conditions: [
      { when: { 'metadata.plan': 'enterprise' }, use: 'big' },
      { when: { 'headers.x-fast': { $exists: true } }, use: 'fast' },
      { when: { 'key.tags': { $in: ['beta'] } }, use: 'beta' },
      { when: { $and: [{ 'params.max_tokens': { $gt: 4000 } }, { 'params.stream': false }] }, use: 'long' },
      { when: { 'params.model': { $regex: '^code/' } }, use: 'coder' },
    ],
    default: 'small',
  });
  const cases: [string, object][] = [
    ['big', { metadata: { plan: 'enterprise' } }],
    ['fast', { headers: { 'x-fast': '1' } }],
    ['beta', { key: { id: 'k', tags: ['beta'] } }],
    ['long', { params: { max_tokens: 8000, stream: false } }],
    ['small', { params: { max_tokens: 8000, stream: true } }],
    ['coder', { params: { model: 'code/route' } }],
    ['small', {}],
  ];
  for (const [expected, context] of cases) {
    it(`routes ${JSON.stringify(context)} to ${expected}`, async () => {
      const { router } = setup();
      const result = await router.route(route, context, async (target) => target);
      assert.equal(result.target, expected);
    });
  }

  it('runs nested trees and traces the path of each attempt', async () => {
    const { router, clock } = setup(() => 0.99);
    const nested = policy({
      strategy: 'conditional',
      conditions: [
        {
          when: { 'metadata.plan': 'pro' },
          use: {
            strategy: 'fallback',
            targets: [
              'a',
              {
                strategy: 'loadbalance',
                targets: [
                  { strategy: 'single', target: 'b', weight: 1 },
                  { strategy: 'single', target: 'c', weight: 1 },
                ],
              },
            ],
          },
        },
      ],
      default: 'd',
    });
    const { attempt } = scripted({ a: [httpError(500)] });
    const result = await drive(clock, router.route(nested, { metadata: { plan: 'pro' } }, attempt));
    assert.equal(result.target, 'c');
    assert.deepEqual(
      result.trace.map((record) => record.path),
      ['policy.conditions[0].use.targets[0]', 'policy.conditions[0].use.targets[1].targets[1]'],
    );
  });

  it('expands targets that name other routes, and refuses loops', async () => {
    const clock = createManualClock();
    const routes: Record<string, RoutePolicy> = {
      'route/outer': policy({ strategy: 'fallback', targets: ['a', 'route/inner'] }),
      'route/inner': policy('b'),
      'route/loop': policy({ strategy: 'fallback', targets: ['route/loop'] }),
    };
    const router = createRouter({
      clock,
      random: () => 0.5,
      breakers: createInMemoryBreakerRegistry({ clock }),
      resolveRoute: (name) => routes[name],
    });
    const { attempt } = scripted({ a: [httpError(502)] });
    const result = await drive(clock, router.route(policy('route/outer'), {}, attempt));
    assert.equal(result.target, 'b');
    assert.equal(result.trace[1]?.path, 'policy(route/outer).targets[1](route/inner)');
    const loop = await rejection(router.route(policy('route/loop'), {}, attempt));
    assert.equal(loop.code, 'config_invalid');
  });
});

describe('router: circuit breaker', () => {
  const breaker = { failureThreshold: 2, windowMs: 10_000, cooldownMs: 5_000 };

  it('opens after N failures, skips the open target, lets one probe through after the cool-down, then closes', async () => {
    const { router, clock, breakers } = setup();
    const route = policy({ strategy: 'fallback', circuitBreaker: breaker, targets: ['a', 'b'] });
    const plan: Record<string, Step[]> = { a: [httpError(503)], b: ['B'] };
    const { attempt, targets } = scripted(plan);
    const call = () => drive(clock, router.route(route, {}, attempt));

    await call();
    await call();
    assert.deepEqual(targets(), ['a', 'b', 'a', 'b']);
    assert.deepEqual(breakers.snapshot().find((entry) => entry.target === 'a')?.state, 'open');

    const skipped = await call();
    assert.deepEqual(targets().slice(4), ['b'], 'a is not called while open');
    assert.deepEqual(
      skipped.trace.map((record) => [record.target, record.outcome, record.breakerState]),
      [
        ['a', 'circuit_open', 'open'],
        ['b', 'success', 'closed'],
      ],
    );

    clock.advance(5_000);
    const probe = await call();
    assert.deepEqual(
      probe.trace.map((record) => [record.target, record.outcome, record.breakerState]),
      [
        ['a', 'failure', 'half_open'],
        ['b', 'success', 'closed'],
      ],
    );
    assert.equal(breakers.snapshot().find((entry) => entry.target === 'a')?.state, 'open', 'failed probe reopens');
    await call();
    assert.equal(targets().at(-1), 'b');

    clock.advance(5_000);
    plan.a = ['A'];
    const healed = await call();
    assert.equal(healed.target, 'a');
    assert.equal(healed.trace[0]?.breakerState, 'half_open');
    assert.equal(breakers.snapshot().find((entry) => entry.target === 'a')?.state, 'closed');
  });

  it('answers circuit_open (503, Retry-After) when every target is cooling down', async () => {
    const { router, clock } = setup();
    const route = policy({ strategy: 'single', target: 'a', circuitBreaker: breaker });
    const { attempt } = scripted({ a: [httpError(500)] });
    await rejection(drive(clock, router.route(route, {}, attempt)));
    await rejection(drive(clock, router.route(route, {}, attempt)));
    clock.advance(1_000);
    const error = await rejection(router.route(route, {}, attempt));
    assert.equal(error.code, 'circuit_open');
    assert.equal(error.httpStatus, 503);
    assert.equal(error.retryAfterSeconds, 4);
    assert.equal(error.details?.attempts, 0);
  });

  it('does not count client errors against the target', async () => {
    const { router, clock, breakers } = setup();
    const route = policy({ strategy: 'single', target: 'a', circuitBreaker: breaker });
    const { attempt } = scripted({ a: [httpError(400)] });
    for (let call = 0; call < 5; call += 1) await rejection(drive(clock, router.route(route, {}, attempt)));
    assert.deepEqual(breakers.snapshot(), []);
  });
});

describe('router: caller abort', () => {
  it('stops at once mid-attempt: rejects with the abort reason, aborts the attempt, tries nothing else', async () => {
    const { router, clock } = setup();
    const { attempt, calls, targets } = scripted({ a: ['hang'] });
    const controller = new AbortController();
    const route = policy({ strategy: 'fallback', timeoutMs: 60_000, retry: { maxAttempts: 3 }, targets: ['a', 'b'] });
    const pending = router.route(route, {}, attempt, controller.signal);
    await flush();
    controller.abort();
    await assert.rejects(pending, { name: 'AbortError' });
    assert.equal(clock.now(), 1_000, 'no time passed');
    assert.deepEqual(targets(), ['a']);
    assert.ok(calls[0]?.signal.aborted);
    assert.equal(clock.pendingSleeps(), 0);
  });

  it('stops during a retry wait', async () => {
    const { router, clock } = setup();
    const { attempt, targets } = scripted({ a: [httpError(503)] });
    const controller = new AbortController();
    const route = policy({ strategy: 'single', target: 'a', retry: { maxAttempts: 5, initialDelayMs: 1_000 } });
    const pending = router.route(route, {}, attempt, controller.signal);
    await flush();
    assert.equal(clock.pendingSleeps(), 1);
    controller.abort(new Error('client went away'));
    await assert.rejects(pending, /client went away/);
    assert.deepEqual(targets(), ['a']);
  });

  it('does not start when already aborted', async () => {
    const { router } = setup();
    const { attempt, calls } = scripted({});
    await assert.rejects(router.route(policy('a'), {}, attempt, AbortSignal.abort()), { name: 'AbortError' });
    assert.equal(calls.length, 0);
  });
});
