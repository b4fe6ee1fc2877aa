import assert from 'node:assert/strict';
import { it } from 'node:test';
import { retryDelayMs } from './event-bus.ts';

it('backs off exponentially with jitter and a cap', () => {
  const policy = { initialDelayMs: 100, maxDelayMs: 1_000 };
  assert.equal(
    retryDelayMs(policy, 1, () => 0),
    50,
  );
  assert.equal(
    retryDelayMs(policy, 1, () => 1),
    100,
  );
  assert.equal(
    retryDelayMs(policy, 3, () => 1),
    400,
  );
  assert.equal(
    retryDelayMs(policy, 10, () => 1),
    1_000,
  );
  assert.equal(
    retryDelayMs(policy, 10, () => 0),
    500,
  );
});
