import {
  createEvent,
  type DeadLetter,
  deadLetterEventType,
  type EventEnvelope,
  type PublishRecord,
} from '@ensemble/core';

/** The record sent to a dead-letter topic: a `bus/message.dead-lettered` event keyed like the original. */
export function deadLetterRecord(deadLetterTopic: string, letter: DeadLetter): PublishRecord<DeadLetter> {
  const original = letter.reason === 'handler_failed' ? (letter.original as EventEnvelope) : undefined;
  return {
    topic: deadLetterTopic,
    key: letter.key,
    value: createEvent({
      type: deadLetterEventType,
      // An invalid record has no project; the dead letter still needs one to be a valid envelope.
      projectId: original?.projectId ?? 'unknown',
      ...(original ? { traceId: original.traceId } : {}),
      data: letter,
    }),
  };
}
