import { z } from 'zod';

/** The event type of a usage record on `ensemble.usage`. */
export const usageRecordedEventType = 'usage/call.recorded';

/** One try of one target by a route, as the ledger keeps it (a `RouteTrace` entry, without clocks). */
export const usageAttemptSchema = z.strictObject({
  target: z.string().min(1).max(500),
  /** Where in the policy the target sits, e.g. `policy.targets[1]`. */
  path: z.string().max(500),
  /** 0 for the record of a stream that broke after its first chunk. */
  attempt: z.number().int().nonnegative(),
  outcome: z.enum(['success', 'failure', 'timeout', 'circuit_open', 'aborted', 'mid_stream_error']),
  status: z.number().int().min(100).max(599).nullable(),
  errorCode: z.string().max(100).nullable(),
  latencyMs: z.number().nonnegative(),
  retryDelayMs: z.number().nonnegative(),
});

export type UsageAttempt = z.infer<typeof usageAttemptSchema>;

/** At most this many attempts are kept per call (a policy's retries are bounded well below it). */
export const maxUsageAttempts = 50;

/**
 * One call through the gateway (or `/api/models/{name}/invoke`), as the ledger stores it. Published
 * off the request path; the ledger consumer validates every message with this schema, so a bad
 * record is dead-lettered, never written half.
 */
export const usageEventSchema = z.strictObject({
  /** The request id (`x-request-id`), so a ledger row leads to the request's logs. */
  requestId: z.string().min(1).max(200),
  /** When the call started. */
  ts: z.iso.datetime({ offset: true }),
  projectId: z.string().min(1).max(200),
  /** The API key's id (never the key); null for calls made without one (embedded admin, tests). */
  keyId: z.string().min(1).max(200).nullable(),
  /** What the client asked for: `chat`, `embeddings`, `invoke`, `responses` (/v1/responses, run as a chat call). */
  endpoint: z.enum(['chat', 'embeddings', 'invoke', 'responses']),
  /** The model name the client sent (a model or a route). */
  requested: z.string().min(1).max(500),
  /** The route's name when `requested` was a route, else null. */
  route: z.string().min(1).max(500).nullable(),
  /** The model that answered (`name@version`), or null when no target answered. */
  target: z.string().min(1).max(500).nullable(),
  provider: z.string().min(1).max(100).nullable(),
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  /** From the registry's pricing; null when the model has no price. */
  costUsd: z.number().nonnegative().nullable(),
  latencyMs: z.number().nonnegative(),
  /** Streams only: until the first chunk left Ensemble. */
  timeToFirstTokenMs: z.number().nonnegative().nullable(),
  stream: z.boolean(),
  /** The HTTP status sent (200 for a stream that started, even if it later failed). */
  status: z.number().int().min(100).max(599),
  /** The `EnsembleError` code (or `mid_stream_error`) when the call failed. */
  errorCode: z.string().min(1).max(100).nullable(),
  cacheHit: z.boolean(),
  /** How many upstream attempts the route made (1 for a plain model). */
  attempts: z.number().int().nonnegative(),
  /** Calls through a route: every attempt in order (absent for a plain model). */
  trace: z.array(usageAttemptSchema).max(maxUsageAttempts).optional(),
});

export type UsageEvent = z.infer<typeof usageEventSchema>;
