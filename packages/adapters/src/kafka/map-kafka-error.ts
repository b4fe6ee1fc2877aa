import { EnsembleError } from '@ensemble/core';
import { findErrorBy, GenericError } from '@platformatic/kafka';

export interface KafkaErrorContext {
  brokers: readonly string[];
  /** What was being done, for the message: `publish`, `ping`, `ensureTopics`, … */
  operation: string;
  topics?: readonly string[];
  /** How the client connects, e.g. `TLS, SASL scram-sha-512 as user 'x'`; never a credential. */
  security?: string;
}

/** Node's codes for a broker certificate that cannot be verified. */
const certificateCodes = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * Turns an error from @platformatic/kafka into a catalogue error. Anything that looks like the broker
 * being away (network errors, timeouts, errors the client marks retryable) is `event_bus_unavailable`,
 * so callers can retry; a missing topic is `not_found`; the rest is an internal error.
 */
export function mapKafkaError(error: unknown, context: KafkaErrorContext): EnsembleError {
  if (EnsembleError.isInstance(error)) return error;
  const brokers = context.brokers.join(',');
  const details = { brokers: [...context.brokers], operation: context.operation };
  const reason = describe(error);
  const kafkaError = error instanceof Error && GenericError.isGenericError(error) ? error : undefined;
  const security = context.security ? ` (${context.security})` : '';

  // Wrong credentials or TLS setup: the broker is there but will not talk to us. Still
  // `event_bus_unavailable` (readiness fails, callers back off), with a message that says why.
  const authentication = findCause(error, (e) => errorCode(e) === 'PLT_KFK_AUTHENTICATION');
  const usesTls = context.security?.startsWith('TLS') === true;
  if (authentication && !usesTls && findCause(authentication, (e) => e.message === 'Connection closed')) {
    // A TLS listener drops a plaintext client's first request without a word.
    return new EnsembleError(
      'event_bus_unavailable',
      `Kafka at ${brokers} is unavailable (${context.operation}): the broker closed the connection before authentication; its listener probably requires TLS (set KAFKA_TLS=true)`,
      { details: { ...details, reason: 'tls_mismatch' }, cause: error },
    );
  }
  if (authentication) {
    const because = innermost(authentication)?.message;
    return new EnsembleError(
      'event_bus_unavailable',
      `Kafka at ${brokers} is unavailable (${context.operation}): authentication failed${security}; check the SASL mechanism, user name and password${because ? `: ${because}` : ''}`,
      { details: { ...details, reason: 'authentication_failed' }, cause: error },
    );
  }
  const certificate = findCause(error, (e) => certificateCodes.has(errorCode(e)));
  if (certificate) {
    return new EnsembleError(
      'event_bus_unavailable',
      `Kafka at ${brokers} is unavailable (${context.operation}): the TLS handshake failed, the broker's certificate was not trusted (${certificate.message}); give its CA (KAFKA_TLS_CA_FILE) or check the broker address`,
      { details: { ...details, reason: 'tls_certificate_untrusted' }, cause: error },
    );
  }
  const tlsMismatch = (e: Error) =>
    e.message === 'Broker requires TLS.' || errorCode(e) === 'ERR_SSL_WRONG_VERSION_NUMBER';
  if (findCause(error, tlsMismatch)) {
    const why = usesTls
      ? 'this client uses TLS but the listener does not (check KAFKA_TLS and the port)'
      : 'the listener requires TLS (set KAFKA_TLS=true)';
    return new EnsembleError(
      'event_bus_unavailable',
      `Kafka at ${brokers} is unavailable (${context.operation}): ${why}`,
      {
        details: { ...details, reason: 'tls_mismatch' },
        cause: error,
      },
    );
  }
  if (findErrorBy(kafkaError, 'apiId', 'UNKNOWN_TOPIC_OR_PARTITION') || /unknown topic/i.test(reason)) {
    const topics = context.topics?.join(', ') ?? 'the topic';
    return new EnsembleError('not_found', `Kafka topic ${topics} does not exist (create it with ensureTopics)`, {
      details: { ...details, ...(context.topics ? { topics: [...context.topics] } : {}) },
      cause: error,
    });
  }
  if (
    findErrorBy(kafkaError, 'apiId', 'MESSAGE_TOO_LARGE') ||
    findErrorBy(kafkaError, 'apiId', 'RECORD_LIST_TOO_LARGE')
  ) {
    return new EnsembleError('validation_failed', `records: too large for the Kafka broker (${reason})`, {
      field: 'records',
      details,
      cause: error,
    });
  }
  if (isUnavailable(kafkaError, error)) {
    return new EnsembleError(
      'event_bus_unavailable',
      `Kafka at ${brokers} is unavailable (${context.operation}): ${reason}`,
      {
        details,
        cause: error,
      },
    );
  }
  return new EnsembleError('internal_error', `Kafka ${context.operation} failed: ${reason}`, { details, cause: error });
}

function isUnavailable(kafkaError: Error | undefined, error: unknown): boolean {
  if (!kafkaError) {
    // Socket errors that escaped the client, e.g. ECONNREFUSED.
    return error instanceof Error && 'code' in error && typeof error.code === 'string' && error.code.startsWith('E');
  }
  if (findErrorBy(kafkaError, 'code', 'PLT_KFK_NETWORK') || findErrorBy(kafkaError, 'code', 'PLT_KFK_TIMEOUT')) {
    return true;
  }
  // The client marks broker-side transient failures (no leader, coordinator loading, …) retryable.
  return findErrorBy(kafkaError, 'canRetry', false) === null;
}

/** The first error in `error`'s causes and aggregated errors (depth first) that matches. */
function findCause(error: unknown, matches: (error: Error) => boolean, depth = 0): Error | undefined {
  if (!(error instanceof Error) || depth > 10) return undefined;
  if (matches(error)) return error;
  const nested = [error.cause, ...(error instanceof AggregateError || 'errors' in error ? asArray(error.errors) : [])];
  for (const inner of nested) {
    const found = findCause(inner, matches, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** The broker's own words are at the bottom of the chain (e.g. "invalid credentials"). */
function innermost(error: Error): Error | undefined {
  let inner: unknown = error.cause ?? ('errors' in error ? asArray(error.errors)[0] : undefined);
  let found: Error | undefined;
  for (let depth = 0; inner instanceof Error && depth < 10; depth++) {
    found = inner;
    inner = inner.cause ?? ('errors' in inner ? asArray(inner.errors)[0] : undefined);
  }
  return found;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function errorCode(error: Error): string {
  return 'code' in error && typeof error.code === 'string' ? error.code : '';
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const nested = error instanceof AggregateError ? error.errors.filter((e) => e instanceof Error) : [];
  const inner = nested.length > 0 ? `: ${nested.map((e: Error) => e.message).join('; ')}` : '';
  return `${error.message}${inner}`;
}
