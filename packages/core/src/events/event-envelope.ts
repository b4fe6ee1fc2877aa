import { z } from 'zod';

/** `domain/noun.verb`, e.g. `jobs/job.requested` or `models/model.ready`. */
export const eventTypePattern = /^[a-z][a-z0-9-]*\/[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*$/;

/** Every event on the bus has this shape; `data` is checked by the schema of its type. */
export const eventEnvelopeSchema = z.strictObject({
  id: z.string().min(1).max(200),
  type: z.string().regex(eventTypePattern, 'must look like domain/noun.verb'),
  ts: z.iso.datetime({ offset: true }),
  projectId: z.string().min(1).max(200),
  traceId: z.string().min(1).max(200),
  data: z.unknown(),
});

export type EventEnvelope<T = unknown> = Omit<z.infer<typeof eventEnvelopeSchema>, 'data'> & {
  data: T;
};

export interface NewEvent<T> {
  type: string;
  projectId: string;
  data: T;
  traceId?: string;
  id?: string;
  ts?: Date;
}

export function createEvent<T>(event: NewEvent<T>): EventEnvelope<T> {
  const id = event.id ?? crypto.randomUUID();
  return {
    id,
    type: event.type,
    ts: (event.ts ?? new Date()).toISOString(),
    projectId: event.projectId,
    traceId: event.traceId ?? id,
    data: event.data,
  };
}
