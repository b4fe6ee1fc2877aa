import { EnsembleError, type ErrorCode } from '@ensemble/core';
import { redactSecret } from './redact-secret.ts';
import { readUpstreamFailure, type UpstreamFailure } from './upstream-failure.ts';

export interface UpstreamCallContext {
  provider: string;
  /** The registry name, e.g. `openai/gpt-4o-mini`. */
  model: string;
  /** Redacted from every message: some upstreams echo the key they refused. */
  secret: string | undefined;
}

interface Mapping {
  code: ErrorCode;
  what: string;
  retryable?: boolean;
}

const timeoutNames = new Set(['TimeoutError', 'APIConnectionTimeoutError', 'RequestTimeout', 'ModelTimeoutException']);
const abortNames = new Set(['AbortError', 'APIUserAbortError', 'GoogleGenerativeAIAbortError']);
const awsAuthNames = new Set([
  'AccessDeniedException',
  'UnrecognizedClientException',
  'ExpiredTokenException',
  'InvalidSignatureException',
  'CredentialsProviderError',
]);

function byStatus(status: number): Mapping {
  if (status === 401 || status === 403)
    return { code: 'upstream_auth_failed', what: 'the provider refused the credential' };
  if (status === 429) return { code: 'rate_limited', what: 'the provider is rate limiting this credential' };
  if (status === 408 || status === 504) return { code: 'timeout', what: 'the provider timed out' };
  if (status === 400 || status === 413 || status === 422) {
    return { code: 'upstream_bad_request', what: 'the provider refused the request as invalid' };
  }
  if (status === 404) {
    return { code: 'upstream_error', what: 'the provider does not know this model or endpoint', retryable: false };
  }
  if (status >= 500) return { code: 'upstream_error', what: 'the provider failed' };
  return { code: 'upstream_error', what: `the provider answered ${status}`, retryable: false };
}

function classify(failure: UpstreamFailure): Mapping {
  if (awsAuthNames.has(failure.name))
    return { code: 'upstream_auth_failed', what: 'the provider refused the credential' };
  if (failure.name === 'ThrottlingException') return byStatus(429);
  if (timeoutNames.has(failure.name)) return { code: 'timeout', what: 'the call to the provider timed out' };
  if (abortNames.has(failure.name)) {
    return { code: 'timeout', what: 'the call to the provider was aborted', retryable: false };
  }
  // Google answers a bad API key with 400 INVALID_ARGUMENT, reason API_KEY_INVALID.
  if (failure.status === 400 && /API_KEY_INVALID|API key not valid/.test(failure.message)) return byStatus(401);
  if (failure.status !== undefined) return byStatus(failure.status);
  if (failure.networkCode !== undefined || failure.name === 'APIConnectionError') {
    return { code: 'upstream_error', what: 'the provider could not be reached' };
  }
  // No status and no network code: the answer arrived but could not be read (bad JSON, missing fields).
  return { code: 'upstream_error', what: 'the provider sent a response Ensemble could not read' };
}

/**
 * Maps any SDK error (OpenAI, Anthropic, AWS, Google) to the error catalogue, keeping Retry-After and
 * dropping the raw error: its message, request and headers may carry the secret.
 */
export function toEnsembleError(error: unknown, context: UpstreamCallContext): EnsembleError {
  if (EnsembleError.isInstance(error)) return error;
  const refusal = findGuardRefusal(error);
  if (refusal !== undefined) {
    return new EnsembleError('upstream_error', `${context.provider} model '${context.model}': ${refusal.message}`, {
      details: { provider: context.provider, model: context.model, reason: 'internal_address' },
      retryable: false,
    });
  }
  const failure = readUpstreamFailure(error);
  const mapping = classify(failure);
  const upstreamMessage = redactSecret(failure.message, context.secret).slice(0, 500);
  const status = failure.status === undefined ? '' : ` (upstream ${failure.status})`;
  const message = `${context.provider} model '${context.model}': ${mapping.what}${status}${upstreamMessage ? `: ${upstreamMessage}` : ''}`;
  return new EnsembleError(mapping.code, message, {
    details: {
      provider: context.provider,
      model: context.model,
      ...(failure.status === undefined ? {} : { upstreamStatus: failure.status }),
      ...(failure.networkCode === undefined ? {} : { networkCode: failure.networkCode }),
    },
    ...(mapping.retryable === undefined ? {} : { retryable: mapping.retryable }),
    ...(failure.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: failure.retryAfterSeconds }),
  });
}

/**
 * The outbound guard's refusal (an internal address met when connecting), however deep the SDK and
 * fetch wrapped it: said as it is, not as "could not be reached", and never worth a retry.
 */
export function findGuardRefusal(error: unknown): EnsembleError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth++) {
    if (EnsembleError.isInstance(current)) {
      return current.details?.reason === 'internal_address' ? current : undefined;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
