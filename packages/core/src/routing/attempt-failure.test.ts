import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EnsembleError } from '../errors/ensemble-error.ts';
import { classifyFailure } from './attempt-failure.ts';

describe('classifyFailure', () => {
  it('reads EnsembleErrors, preferring the upstream status', () => {
    const failure = classifyFailure(
      new EnsembleError('upstream_error', 'overloaded', { details: { upstreamStatus: 529 }, retryAfterSeconds: 2 }),
      0,
    );
    assert.deepEqual(
      [failure.code, failure.status, failure.retryable, failure.retryAfterMs],
      ['upstream_error', 529, true, 2_000],
    );
  });

  it('maps SDK errors by status', () => {
    const cases: [number, string, boolean][] = [
      [400, 'upstream_bad_request', false],
      [401, 'upstream_auth_failed', false],
      [408, 'request_timeout', true],
      [422, 'upstream_bad_request', false],
      [429, 'rate_limited', true],
      [500, 'upstream_error', true],
      [504, 'timeout', true],
    ];
    for (const [status, code, retryable] of cases) {
      const failure = classifyFailure(Object.assign(new Error('x'), { status }), 0);
      assert.deepEqual([failure.code, failure.status, failure.retryable], [code, status, retryable]);
    }
    assert.equal(classifyFailure({ statusCode: 503 }, 0).status, 503);
  });

  it('reads Retry-After as seconds, an HTTP date, or retry-after-ms, from plain or Headers objects', () => {
    const at = (headers: unknown, now = 0) => classifyFailure({ status: 429, headers }, now).retryAfterMs;
    assert.equal(at({ 'Retry-After': '7' }), 7_000);
    assert.equal(at(new Headers({ 'retry-after': '1.5' })), 1_500);
    assert.equal(at({ 'retry-after-ms': '250', 'retry-after': '9' }), 250);
    assert.equal(
      at({ 'retry-after': 'Wed, 21 Oct 2015 07:28:10 GMT' }, Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')),
      10_000,
    );
    assert.equal(at({ 'retry-after': 'soon' }), undefined);
    assert.equal(at(undefined), undefined);
  });

  it('treats anything else (a reset socket) as a retryable upstream_error', () => {
    const failure = classifyFailure(new TypeError('fetch failed'), 0);
    assert.deepEqual([failure.code, failure.status, failure.retryable], ['upstream_error', 502, true]);
    assert.equal(classifyFailure('boom', 0).message, 'boom');
  });
});
