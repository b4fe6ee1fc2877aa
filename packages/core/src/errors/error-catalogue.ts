/**
 * The one catalogue of error codes Ensemble answers with. Each code fixes its HTTP status, whether
 * a caller may retry, and the OpenAI-style error `type` used on the `/v1` API. Adding a failure mode
 * means adding a line here, never inventing a status at a call site.
 */
export const errorCatalogue = {
  validation_failed: { httpStatus: 400, retryable: false, type: 'invalid_request_error' },
  malformed_body: { httpStatus: 400, retryable: false, type: 'invalid_request_error' },
  unauthorized: { httpStatus: 401, retryable: false, type: 'authentication_error' },
  forbidden: { httpStatus: 403, retryable: false, type: 'permission_error' },
  not_found: { httpStatus: 404, retryable: false, type: 'not_found_error' },
  route_not_found: { httpStatus: 404, retryable: false, type: 'not_found_error' },
  method_not_allowed: { httpStatus: 405, retryable: false, type: 'invalid_request_error' },
  request_timeout: { httpStatus: 408, retryable: true, type: 'timeout_error' },
  conflict: { httpStatus: 409, retryable: false, type: 'conflict_error' },
  payload_too_large: { httpStatus: 413, retryable: false, type: 'invalid_request_error' },
  unsupported_media_type: { httpStatus: 415, retryable: false, type: 'invalid_request_error' },
  headers_too_large: { httpStatus: 431, retryable: false, type: 'invalid_request_error' },
  rate_limited: { httpStatus: 429, retryable: true, type: 'rate_limit_error' },
  /** A spend budget is used up for its period (OpenAI calls this `insufficient_quota`). */
  budget_exceeded: { httpStatus: 429, retryable: false, type: 'insufficient_quota' },
  internal_error: { httpStatus: 500, retryable: false, type: 'server_error' },
  upstream_error: { httpStatus: 502, retryable: true, type: 'server_error' },
  /** A model provider refused Ensemble's credential for it (401/403 upstream): fix the credential. */
  upstream_auth_failed: { httpStatus: 502, retryable: false, type: 'authentication_error' },
  /** A model provider refused the request itself as invalid (400/413/422 upstream, e.g. context too long). */
  upstream_bad_request: { httpStatus: 400, retryable: false, type: 'invalid_request_error' },
  database_unavailable: { httpStatus: 503, retryable: true, type: 'service_unavailable' },
  event_bus_unavailable: { httpStatus: 503, retryable: true, type: 'service_unavailable' },
  shutting_down: { httpStatus: 503, retryable: true, type: 'service_unavailable' },
  timeout: { httpStatus: 504, retryable: true, type: 'timeout_error' },
  circuit_open: { httpStatus: 503, retryable: true, type: 'service_unavailable' },
  config_invalid: { httpStatus: 500, retryable: false, type: 'server_error' },
  artifact_corrupt: { httpStatus: 500, retryable: false, type: 'server_error' },
} as const satisfies Record<string, ErrorSpec>;

export interface ErrorSpec {
  httpStatus: number;
  retryable: boolean;
  /** The `error.type` an OpenAI SDK expects for this kind of failure. */
  type: string;
}

export type ErrorCode = keyof typeof errorCatalogue;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(errorCatalogue, value);
}
