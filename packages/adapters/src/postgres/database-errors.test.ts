import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EnsembleError } from '@ensemble/core';
import { isDatabaseUnavailable, mapDatabaseError, withDatabaseErrors } from './database-errors.ts';

const withCode = (code: string, message = 'failed') => Object.assign(new Error(message), { code });

describe('database error mapping', () => {
  it('recognises connection-level failures', () => {
    for (const error of [
      withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'),
      withCode('57P01', 'terminating connection due to administrator command'),
      withCode('08006'),
      withCode('57P03', 'the database system is starting up'),
      withCode('53300', 'sorry, too many clients already'),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      new Error('Query read timeout'),
      new AggregateError([withCode('ECONNREFUSED')], 'connect failed'),
      new Error('wrapped', { cause: withCode('ECONNRESET') }),
    ]) {
      assert.equal(isDatabaseUnavailable(error), true, String(error));
    }
  });

  it('leaves query errors alone', () => {
    const unique = withCode('23505', 'duplicate key value violates unique constraint');
    const syntax = withCode('42601', 'syntax error at or near "selec"');
    assert.equal(isDatabaseUnavailable(unique), false);
    assert.equal(isDatabaseUnavailable(syntax), false);
    assert.equal(mapDatabaseError(unique), unique);
  });

  it('maps to a retryable 503 that names the cause', async () => {
    const mapped = mapDatabaseError(withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'));
    assert.ok(mapped instanceof EnsembleError);
    assert.equal(mapped.code, 'database_unavailable');
    assert.equal(mapped.httpStatus, 503);
    assert.equal(mapped.retryable, true);
    assert.match(mapped.message, /ECONNREFUSED/);
    await assert.rejects(
      withDatabaseErrors(() => Promise.reject(withCode('57P01')), 'event_bus_unavailable'),
      (error: unknown) => error instanceof EnsembleError && error.code === 'event_bus_unavailable',
    );
    const rebadged = mapDatabaseError(mapped, 'event_bus_unavailable');
    assert.ok(rebadged instanceof EnsembleError && rebadged.code === 'event_bus_unavailable');
  });
});
