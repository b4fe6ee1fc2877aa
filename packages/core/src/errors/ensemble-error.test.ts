import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EnsembleError, validationError } from './ensemble-error.ts';
import { errorCatalogue, isErrorCode } from './error-catalogue.ts';

describe('EnsembleError', () => {
  it('takes its status and retryability from the catalogue', () => {
    const error = new EnsembleError('database_unavailable', 'PostgreSQL is not reachable');
    assert.equal(error.httpStatus, 503);
    assert.equal(error.retryable, true);
    assert.ok(EnsembleError.isInstance(error));
    assert.ok(!EnsembleError.isInstance(new Error('x')));
  });

  it('lets a call site override retryability and name the field', () => {
    const error = new EnsembleError('upstream_error', 'bad gateway', { retryable: false, retryAfterSeconds: 3 });
    assert.equal(error.retryable, false);
    assert.equal(error.retryAfterSeconds, 3);
    const invalid = validationError('body.name', 'must not be empty');
    assert.equal(invalid.field, 'body.name');
    assert.equal(invalid.message, 'body.name: must not be empty');
    assert.equal(invalid.httpStatus, 400);
  });

  it('has a sane catalogue: 4xx are not retryable except 429, 5xx codes exist for outages', () => {
    for (const [code, spec] of Object.entries(errorCatalogue)) {
      assert.ok(isErrorCode(code));
      assert.ok(spec.httpStatus >= 400 && spec.httpStatus <= 599, code);
      if (spec.httpStatus < 500 && spec.httpStatus !== 429 && spec.httpStatus !== 408)
        assert.equal(spec.retryable, false, code);
    }
    assert.equal(isErrorCode('nope'), false);
  });
});
