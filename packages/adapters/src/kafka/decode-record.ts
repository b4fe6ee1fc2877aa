import { type EventEnvelope, eventEnvelopeSchema } from '@ensemble/core';

export type DecodedRecord =
  | { valid: true; envelope: EventEnvelope }
  | { valid: false; error: string /** The value as text, for the dead letter. */; raw: string };

/** Reads a record value as an event envelope; anything else is reported, never thrown. */
export function decodeRecord(value: Buffer | null | undefined): DecodedRecord {
  const raw = value ? value.toString('utf8') : '';
  if (!value || value.length === 0) return { valid: false, error: 'the record has no value', raw };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    return { valid: false, error: `the value is not JSON: ${(error as Error).message}`, raw };
  }
  const parsed = eventEnvelopeSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'value'}: ${issue.message}`);
    return { valid: false, error: `the value is not an event envelope: ${issues.join('; ')}`, raw };
  }
  return { valid: true, envelope: parsed.data as EventEnvelope };
}
