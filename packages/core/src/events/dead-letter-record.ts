import { type DeadLetter, deadLetterEventType, type PublishRecord } from '../ports/event-bus.ts';
import { createEvent, type EventEnvelope } from './event-envelope.ts';

/**
 * The record an EventBus adapter sends to a dead-letter topic: a `bus/message.dead-lettered` event
 * keyed like the original, carrying the original's project and trace when it was a valid envelope.
 */
export function deadLetterRecord(deadLetterTopic: string, letter: DeadLetter): PublishRecord<DeadLetter> {
  const original = letter.reason === 'invalid_envelope' ? undefined : (letter.original as EventEnvelope);
  return {
    topic: deadLetterTopic,
    key: letter.key,
    value: createEvent({
      type: deadLetterEventType,
      // An invalid record has no trustworthy project; the dead letter still needs one to be a valid envelope.
      projectId: original?.projectId ?? 'unknown',
      ...(original ? { traceId: original.traceId } : {}),
      data: letter,
    }),
  };
}
