import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EnsembleError } from '@ensemble/core';
import { toEnsembleError } from './to-ensemble-error.ts';

const call = { provider: 'test', model: 'test/model', secret: 'sk-very-secret-value' };

/** Shapes of errors as the SDKs throw them (fields only; the provider tests replay the real ones). */
describe('toEnsembleError', () => {
  it('maps AWS exceptions by name and HTTP status', () => {
    const throttled = Object.assign(new Error('Too many requests, please wait before trying again.'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 429 },
      $response: { headers: { 'Retry-After': '3' } },
    });
    const mapped = toEnsembleError(throttled, call);
    assert.equal(mapped.code, 'rate_limited');
    assert.equal(mapped.retryAfterSeconds, 3);
    const denied = Object.assign(new Error('The security token included in the request is invalid.'), {
      name: 'UnrecognizedClientException',
      $metadata: { httpStatusCode: 403 },
    });
    assert.equal(toEnsembleError(denied, call).code, 'upstream_auth_failed');
    const validation = Object.assign(new Error('Malformed input request'), {
      name: 'ValidationException',
      $metadata: { httpStatusCode: 400 },
    });
    assert.equal(toEnsembleError(validation, call).code, 'upstream_bad_request');
  });

  it("reads Google's RetryInfo delay and Retry-After as an HTTP date", () => {
    const google = Object.assign(new Error('[429 Too Many Requests] quota'), {
      status: 429,
      errorDetails: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '34.4s' }],
    });
    assert.equal(toEnsembleError(google, call).retryAfterSeconds, 35);
    const dated = Object.assign(new Error('slow down'), {
      status: 429,
      headers: new Headers({ 'retry-after': new Date(Date.now() + 10_000).toUTCString() }),
    });
    const seconds = toEnsembleError(dated, call).retryAfterSeconds ?? 0;
    assert.ok(seconds >= 9 && seconds <= 11, String(seconds));
  });

  it('maps unreachable hosts, timeouts and unreadable answers', () => {
    const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    const unreachable = toEnsembleError(refused, call);
    assert.equal(unreachable.code, 'upstream_error');
    assert.equal(unreachable.details?.networkCode, 'ECONNREFUSED');
    assert.equal(toEnsembleError(new DOMException('signal timed out', 'TimeoutError'), call).code, 'timeout');
    assert.equal(toEnsembleError(new SyntaxError('Unexpected end of JSON input'), call).code, 'upstream_error');
    assert.equal(toEnsembleError({ status: 529, message: 'Overloaded' }, call).code, 'upstream_error');
  });

  it('never carries the secret and passes EnsembleErrors through', () => {
    const echoed = Object.assign(new Error('Invalid key sk-very-secret-value'), { status: 401 });
    const mapped = toEnsembleError(echoed, call);
    assert.equal(mapped.code, 'upstream_auth_failed');
    assert.ok(!mapped.message.includes(call.secret));
    assert.equal(mapped.cause, undefined);
    const own = new EnsembleError('timeout', 'x');
    assert.equal(toEnsembleError(own, call), own);
  });
});
