import { EnsembleError } from '@ensemble/core';
import { findErrorBy, GenericError } from '@platformatic/kafka';

export interface KafkaErrorContext {
  brokers: readonly string[];
  /** What was being done, for the message: `publish`, `ping`, `ensureTopics`, … */
  operation: string;
  topics?: readonly string[];
}

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

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const nested = error instanceof AggregateError ? error.errors.filter((e) => e instanceof Error) : [];
  const inner = nested.length > 0 ? `: ${nested.map((e: Error) => e.message).join('; ')}` : '';
  return `${error.message}${inner}`;
}
