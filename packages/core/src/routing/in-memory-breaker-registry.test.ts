import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BreakerState } from './breaker-registry.ts';
import { createInMemoryBreakerRegistry } from './in-memory-breaker-registry.ts';
import { createManualClock } from './manual-clock.ts';

const policy = { failureThreshold: 3, windowMs: 1_000, cooldownMs: 500 };

function setup() {
  const clock = createManualClock();
  const transitions: [string, BreakerState, BreakerState][] = [];
  const breakers = createInMemoryBreakerRegistry({ clock, onStateChange: (...change) => transitions.push(change) });
  const fail = (target = 'a') => breakers.record(target, policy, 'failure', breakers.admit(target, policy));
  return { clock, breakers, transitions, fail };
}

describe('in-memory breaker registry', () => {
  it('counts only failures inside the window', () => {
    const { clock, breakers, fail } = setup();
    fail();
    fail();
    clock.advance(1_001);
    fail();
    fail();
    assert.equal(breakers.admit('a', policy).state, 'closed');
    fail();
    assert.deepEqual(breakers.admit('a', policy), { allowed: false, state: 'open', probe: false, retryAfterMs: 500 });
  });

  it('lets exactly one probe through when half-open, and closes on its success', () => {
    const { clock, breakers, transitions, fail } = setup();
    fail();
    fail();
    fail();
    clock.advance(499);
    assert.equal(breakers.admit('a', policy).allowed, false);
    clock.advance(1);
    const probe = breakers.admit('a', policy);
    assert.deepEqual(probe, { allowed: true, state: 'half_open', probe: true });
    assert.deepEqual(breakers.admit('a', policy), { allowed: false, state: 'half_open', probe: false });
    // A late success from a call admitted earlier does not close it; only the probe's verdict does.
    breakers.record('a', policy, 'success', { allowed: true, state: 'closed', probe: false });
    assert.equal(breakers.snapshot()[0]?.state, 'half_open');
    breakers.record('a', policy, 'success', probe);
    assert.deepEqual(breakers.snapshot(), [{ target: 'a', state: 'closed', recentFailures: 0, openedAt: undefined }]);
    assert.deepEqual(transitions, [
      ['a', 'closed', 'open'],
      ['a', 'open', 'half_open'],
      ['a', 'half_open', 'closed'],
    ]);
  });

  it('reopens on a failed probe and frees the probe on a neutral verdict', () => {
    const { clock, breakers, fail } = setup();
    fail();
    fail();
    fail();
    clock.advance(500);
    const probe = breakers.admit('a', policy);
    breakers.record('a', policy, 'neutral', probe);
    const second = breakers.admit('a', policy);
    assert.equal(second.probe, true);
    breakers.record('a', policy, 'failure', second);
    assert.deepEqual(breakers.snapshot()[0], { target: 'a', state: 'open', recentFailures: 0, openedAt: 500 });
    assert.equal(breakers.admit('a', policy).allowed, false);
  });

  it('keeps targets apart', () => {
    const { breakers, fail } = setup();
    fail('a');
    fail('a');
    fail('a');
    assert.equal(breakers.admit('b', policy).allowed, true);
    assert.equal(breakers.admit('a', policy).allowed, false);
  });
});
