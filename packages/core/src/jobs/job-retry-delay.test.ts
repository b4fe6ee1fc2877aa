import assert from 'node:assert/strict';
import { it } from 'node:test';
import { jobRetryDelayMs } from './job-retry-delay.ts';

it('backs off exponentially with jitter, capped, honouring a longer Retry-After', () => {
  const policy = { maxAttempts: 5, initialDelayMs: 100, maxDelayMs: 1_000 };
  assert.equal(
    jobRetryDelayMs(policy, 1, undefined, () => 0),
    50,
  );
  assert.equal(
    jobRetryDelayMs(policy, 1, undefined, () => 1),
    100,
  );
  assert.equal(
    jobRetryDelayMs(policy, 3, undefined, () => 1),
    400,
  );
  assert.equal(
    jobRetryDelayMs(policy, 10, undefined, () => 1),
    1_000,
    'capped',
  );
  assert.equal(
    jobRetryDelayMs(policy, 1, 0.5, () => 0),
    500,
    'Retry-After asks for longer',
  );
  assert.equal(
    jobRetryDelayMs(policy, 1, 30, () => 0),
    1_000,
    'but never beyond the cap',
  );
});
