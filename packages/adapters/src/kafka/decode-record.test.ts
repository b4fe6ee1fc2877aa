import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEvent } from '@ensemble/core';
import { decodeRecord } from './decode-record.ts';

describe('decodeRecord', () => {
  it('returns the envelope of a valid record', () => {
    const envelope = createEvent({ type: 'jobs/job.requested', projectId: 'p1', data: { n: 1 } });
    const decoded = decodeRecord(Buffer.from(JSON.stringify(envelope)));
    assert.deepEqual(decoded, { valid: true, envelope });
  });

  it('reports bytes that are not JSON, with the raw text', () => {
    const decoded = decodeRecord(Buffer.from('{nope'));
    assert.equal(decoded.valid, false);
    assert.ok(!decoded.valid);
    assert.match(decoded.error, /not JSON/);
    assert.equal(decoded.raw, '{nope');
  });

  it('names the envelope fields that are wrong', () => {
    const decoded = decodeRecord(Buffer.from(JSON.stringify({ id: 'x', type: 'no-slash' })));
    assert.ok(!decoded.valid);
    assert.match(decoded.error, /type: must look like domain\/noun\.verb/);
    assert.match(decoded.error, /projectId/);
  });

  it('reports a record without a value', () => {
    const decoded = decodeRecord(undefined);
    assert.ok(!decoded.valid);
    assert.match(decoded.error, /no value/);
    assert.equal(decoded.raw, '');
  });
});
