import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EnsembleError } from '@ensemble/core';
import { MultipleErrors, NetworkError, ProtocolError, TimeoutError, UserError } from '@platformatic/kafka';
import { mapKafkaError } from './map-kafka-error.ts';

const context = { brokers: ['127.0.0.1:9092'], operation: 'publish', topics: ['ensemble.jobs.tasks'] };

describe('mapKafkaError', () => {
  it('maps an unreachable broker to event_bus_unavailable, naming the brokers', () => {
    const refused = new MultipleErrors('produce failed 4 times.', [
      new NetworkError('Connection to 127.0.0.1:9092 failed.', { cause: new Error('connect ECONNREFUSED') }),
    ]);
    const error = mapKafkaError(refused, context);
    assert.equal(error.code, 'event_bus_unavailable');
    assert.equal(error.retryable, true);
    assert.match(error.message, /127\.0\.0\.1:9092/);
    assert.match(error.message, /Connection to 127\.0\.0\.1:9092 failed/);
    assert.deepEqual(error.details?.brokers, ['127.0.0.1:9092']);
    assert.equal(error.cause, refused);
  });

  it('maps client timeouts and retryable broker errors to event_bus_unavailable', () => {
    assert.equal(mapKafkaError(new TimeoutError('Request timed out.'), context).code, 'event_bus_unavailable');
    assert.equal(mapKafkaError(new ProtocolError('NOT_ENOUGH_REPLICAS'), context).code, 'event_bus_unavailable');
  });

  it('maps a missing topic to not_found', () => {
    const error = mapKafkaError(new UserError('Unknown topic ensemble.jobs.tasks.'), context);
    assert.equal(error.code, 'not_found');
    assert.match(error.message, /ensemble\.jobs\.tasks does not exist/);
  });

  it('maps an oversized record to validation_failed and other failures to internal_error', () => {
    assert.equal(mapKafkaError(new ProtocolError('MESSAGE_TOO_LARGE'), context).code, 'validation_failed');
    assert.equal(mapKafkaError(new ProtocolError('INVALID_REPLICATION_FACTOR'), context).code, 'internal_error');
  });

  it('passes EnsembleErrors through', () => {
    const original = new EnsembleError('shutting_down', 'closing');
    assert.equal(mapKafkaError(original, context), original);
  });
});
