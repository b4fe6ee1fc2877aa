import type { FastifySchemaCompiler } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import type { ZodType } from 'zod';

/**
 * The route envelopes checked by hand on the hot path: `true` only when the body certainly passes
 * its zod schema (chat-completion-envelope.ts); anything unusual goes to zod, which names the field.
 * Same answer, a fraction of the cost (zod parses and copies the whole loose object).
 */
const roles: ReadonlySet<unknown> = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isString(value: unknown, min: number, max: number): boolean {
  return typeof value === 'string' && value.length >= min && value.length <= max;
}

function absent(value: unknown): boolean {
  return value === undefined || value === null;
}

function optionalInteger(value: unknown, min: number, max: number): boolean {
  return absent(value) || (Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max);
}

function optionalNumber(value: unknown, min: number, max: number): boolean {
  return absent(value) || (typeof value === 'number' && value >= min && value <= max);
}

export function isPlainChatEnvelope(body: unknown): boolean {
  if (!isRecord(body) || !isString(body.model, 1, 300)) return false;
  const { messages } = body;
  if (!Array.isArray(messages) || messages.length < 1 || messages.length > 10_000) return false;
  for (const message of messages) if (!isRecord(message) || !roles.has(message.role)) return false;
  if (!absent(body.stream) && typeof body.stream !== 'boolean') return false;
  const options = body.stream_options;
  if (
    !absent(options) &&
    !(isRecord(options) && (options.include_usage === undefined || typeof options.include_usage === 'boolean'))
  ) {
    return false;
  }
  if (!optionalInteger(body.max_tokens, 1, Number.MAX_SAFE_INTEGER)) return false;
  if (!optionalInteger(body.max_completion_tokens, 1, Number.MAX_SAFE_INTEGER)) return false;
  if (!optionalNumber(body.temperature, 0, 2) || !optionalNumber(body.top_p, 0, 1)) return false;
  if (!optionalInteger(body.n, 1, 128)) return false;
  if (body.user !== undefined && !isString(body.user, 0, 1_000)) return false;
  const { metadata } = body;
  if (!absent(metadata)) {
    if (!isRecord(metadata)) return false;
    for (const value of Object.values(metadata)) if (!isString(value, 0, 512)) return false;
  }
  return true;
}

export function isPlainEmbeddingsEnvelope(body: unknown): boolean {
  if (!isRecord(body) || !isString(body.model, 1, 300)) return false;
  const { input } = body;
  if (typeof input !== 'string' && !(Array.isArray(input) && input.length >= 1 && input.length <= 2_048)) return false;
  const format = body.encoding_format;
  return format === undefined || format === 'float' || format === 'base64';
}

/** A route's body validator: the hand check first, zod (and its error) when it says no. */
export function fastBodyValidator<S>(check: (body: unknown) => boolean): FastifySchemaCompiler<S> {
  return (route) => {
    const validate = validatorCompiler(route as unknown as Parameters<FastifySchemaCompiler<ZodType>>[0]);
    if (route.httpPart !== 'body') return validate;
    return (data: unknown) => (check(data) ? { value: data } : validate(data));
  };
}
