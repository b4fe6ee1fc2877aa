import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEvent, eventEnvelopeSchema } from './event-envelope.ts';
import { allTopics, topicNamePattern } from './topics.ts';

describe('event envelope', () => {
  it('creates envelopes that validate, with the trace defaulting to the event id', () => {
    const event = createEvent({ type: 'jobs/job.requested', projectId: 'default', data: { jobId: 'j1' } });
    assert.deepEqual(eventEnvelopeSchema.parse(event), event);
    assert.equal(event.traceId, event.id);
    assert.ok(!Number.isNaN(Date.parse(event.ts)));
  });

  it('refuses envelopes with a bad type, extra fields or missing project', () => {
    const good = createEvent({ type: 'jobs/job.requested', projectId: 'p', data: null });
    assert.equal(eventEnvelopeSchema.safeParse({ ...good, type: 'JobRequested' }).success, false);
    assert.equal(eventEnvelopeSchema.safeParse({ ...good, extra: 1 }).success, false);
    assert.equal(eventEnvelopeSchema.safeParse({ ...good, projectId: '' }).success, false);
    assert.equal(eventEnvelopeSchema.safeParse({ ...good, ts: 'yesterday' }).success, false);
  });

  it('uses valid Kafka topic names', () => {
    for (const topic of allTopics) assert.match(topic, topicNamePattern);
    assert.equal(allTopics.length, 10);
  });
});
