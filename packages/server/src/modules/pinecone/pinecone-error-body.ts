import type { ErrorCode } from '@ensemble/core';
import type { ErrorFormatter } from '../../errors/error-problem.ts';

/** The path prefix of every index's data plane ("host"); the control plane is the rest of `/pinecone`. */
export const dataPlanePrefix = '/pinecone/data/';

/** Pinecone's control-plane error codes (its `ErrorResponse.error.code`). */
function controlCode(code: ErrorCode, status: number): string {
  if (code === 'not_found' || code === 'route_not_found') return 'NOT_FOUND';
  if (code === 'conflict') return 'ALREADY_EXISTS';
  if (status === 401) return 'UNAUTHENTICATED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 429) return 'RESOURCE_EXHAUSTED';
  if (status === 400 || status === 413 || status === 415) return 'INVALID_ARGUMENT';
  if (status === 503) return 'UNAVAILABLE';
  if (status === 504 || status === 408) return 'DEADLINE_EXCEEDED';
  return 'UNKNOWN';
}

/** gRPC status numbers, which the data plane answers with (`{code, message, details}`). */
function grpcCode(status: number): number {
  if (status === 400 || status === 413 || status === 415) return 3;
  if (status === 404) return 5;
  if (status === 409) return 6;
  if (status === 403) return 7;
  if (status === 429) return 8;
  if (status === 401) return 16;
  if (status === 503) return 14;
  if (status === 504 || status === 408) return 4;
  return 2;
}

/**
 * Errors under `/pinecone` in Pinecone's shapes, which its SDKs read: `{error: {code, message}, status}`
 * on the control plane, `{code, message, details}` on an index's data plane.
 */
export const formatPineconeError: ErrorFormatter = (problem, request) => {
  if (request.url.startsWith(dataPlanePrefix)) {
    return { code: grpcCode(problem.httpStatus), message: problem.message, details: [] };
  }
  return {
    error: { code: controlCode(problem.code, problem.httpStatus), message: problem.message },
    status: problem.httpStatus,
  };
};
