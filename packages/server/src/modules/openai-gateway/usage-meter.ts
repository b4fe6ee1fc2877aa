import type { ModelDescriptor, RouteTrace, UsageAttempt, UsageEvent } from '@ensemble/core';
import { EnsembleError, maxUsageAttempts } from '@ensemble/core';
import type { FastifyRequest } from 'fastify';

/** Sent as the status of a call the client abandoned (nginx's convention; nothing reached the client). */
export const clientClosedStatus = 499;
export const clientClosedCode = 'client_disconnected';

export interface TokenCounts {
  inputTokens: number;
  outputTokens: number;
}

/** What the response cache did for a call: answered it, was asked and missed, or was not used. */
export type CacheStatus = 'hit' | 'miss' | 'bypass';

export type UsageEndpoint = UsageEvent['endpoint'];

/** Where a finished call's event goes: the usage recorder and the metrics. */
export type UsageSink = (event: UsageEvent, cache: CacheStatus) => void;

/** What answered a call: the model (and route, and how many attempts it took). */
export interface UsageTarget {
  descriptor: Pick<ModelDescriptor, 'name' | 'version' | 'provider' | 'pricing'>;
  route?: string | undefined;
  attempts?: number | undefined;
}

/**
 * Measures one gateway call and hands exactly one `UsageEvent` to the recorder when it ends —
 * however it ends (answer, error, mid-stream failure, client gone). Later calls to `end` are
 * ignored, so every exit path may call it without counting twice. Never throws: accounting must
 * not break the answer.
 */
export class UsageMeter {
  readonly #sink: UsageSink | undefined;
  readonly #request: FastifyRequest;
  readonly #endpoint: UsageEvent['endpoint'];
  readonly #requested: string;
  readonly #stream: boolean;
  readonly #startedAt = performance.now();
  readonly #startedAtMs = Date.now();
  #target: UsageTarget | undefined;
  #route: string | null = null;
  #attempts = 0;
  #trace: RouteTrace | undefined;
  #firstChunkMs: number | null = null;
  #cache: CacheStatus = 'bypass';
  #ended = false;

  constructor(
    sink: UsageSink | undefined,
    request: FastifyRequest,
    call: { endpoint: UsageEvent['endpoint']; requested: string; stream: boolean },
  ) {
    this.#sink = sink;
    this.#request = request;
    this.#endpoint = call.endpoint;
    this.#requested = call.requested;
    this.#stream = call.stream;
  }

  /** The requested name is a route (even if no target answers). */
  route(name: string): void {
    this.#route = name;
  }

  /** The model being called (again for each attempt), then the one that answered, with the attempts made. */
  target(target: UsageTarget): void {
    this.#target = target;
    if (target.route !== undefined) this.#route = target.route;
    this.#attempts = target.attempts ?? this.#attempts + 1;
  }

  attempts(count: number): void {
    this.#attempts = count;
  }

  /** A route's attempts; read when the call ends (a stream's trace grows until then). */
  trace(trace: RouteTrace): void {
    this.#trace = trace;
  }

  cache(status: CacheStatus): void {
    this.#cache = status;
  }

  /** The first streamed chunk has left Ensemble. */
  firstChunk(): void {
    this.#firstChunkMs ??= performance.now() - this.#startedAt;
  }

  /** A whole answer (or a stream that ended cleanly). */
  succeed(tokens: TokenCounts, status = 200): void {
    this.#end(status, null, tokens);
  }

  /** The call failed: the status sent and the error's code (or `mid_stream_error` and friends). */
  fail(status: number, errorCode: string, tokens?: TokenCounts): void {
    this.#end(status, errorCode, tokens);
  }

  /** A thrown error, read as the error handler will answer it. */
  failWith(error: unknown): void {
    if (EnsembleError.isInstance(error)) this.fail(error.httpStatus, error.code);
    else this.fail(500, 'internal_error');
  }

  clientClosed(tokens?: TokenCounts): void {
    this.#end(this.#firstChunkMs === null ? clientClosedStatus : 200, clientClosedCode, tokens);
  }

  /** `name@version` of the model being called, if any yet (for logs). */
  get targetName(): string | undefined {
    const descriptor = this.#target?.descriptor;
    return descriptor === undefined ? undefined : `${descriptor.name}@${descriptor.version}`;
  }

  get ended(): boolean {
    return this.#ended;
  }

  #end(status: number, errorCode: string | null, tokens: TokenCounts | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    const sink = this.#sink;
    if (sink === undefined) return;
    try {
      const target = this.#target;
      const inputTokens = tokens?.inputTokens ?? 0;
      const outputTokens = tokens?.outputTokens ?? 0;
      const cacheHit = this.#cache === 'hit';
      // A cached answer cost nothing upstream.
      const pricing = cacheHit ? { inputPerMillionTokens: 0, outputPerMillionTokens: 0 } : target?.descriptor.pricing;
      const event: UsageEvent = {
        requestId: this.#request.id,
        ts: isoTime(this.#startedAtMs),
        projectId: this.#request.principal.projectId,
        keyId: this.#request.principal.keyId,
        endpoint: this.#endpoint,
        requested: this.#requested,
        route: this.#route,
        target: target === undefined ? null : `${target.descriptor.name}@${target.descriptor.version}`,
        provider: target?.descriptor.provider ?? null,
        inputTokens,
        outputTokens,
        costUsd:
          pricing === undefined
            ? null
            : (inputTokens * pricing.inputPerMillionTokens + outputTokens * pricing.outputPerMillionTokens) / 1e6,
        latencyMs: performance.now() - this.#startedAt,
        timeToFirstTokenMs: this.#firstChunkMs,
        stream: this.#stream,
        status,
        errorCode,
        cacheHit,
        attempts: this.#attempts,
        ...(this.#trace === undefined ? {} : { trace: usageAttempts(this.#trace) }),
      };
      sink(event, this.#cache);
    } catch (error) {
      this.#request.log.warn({ err: error }, 'usage not recorded');
    }
  }
}

/** The ledger's copy of a route trace: what each try did and how long it took, without clocks. */
export function usageAttempts(trace: RouteTrace): UsageAttempt[] {
  return trace.slice(0, maxUsageAttempts).map((record) => ({
    // Bounded as the ledger's schema says: a record it would refuse would lose the whole call's usage.
    target: record.target.slice(0, 500),
    path: record.path.slice(0, 500),
    attempt: Math.max(0, record.attempt),
    outcome: record.outcome,
    status: record.status !== undefined && record.status >= 100 && record.status <= 599 ? record.status : null,
    errorCode: record.errorCode?.slice(0, 100) ?? null,
    latencyMs: Math.max(0, record.endedAt - record.startedAt),
    retryDelayMs: Math.max(0, record.retryDelayMs),
  }));
}

let lastMs = 0;
let lastIso = new Date(0).toISOString();

/** `toISOString` once per millisecond: calls that start together share it (≈1 µs each otherwise). */
function isoTime(ms: number): string {
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}
