import { EnsembleError } from '@ensemble/core';

/** An SDK error as one of Ensemble's: 404 not_found, 409 conflict, 400 validation_failed, else upstream. */
export function mapPineconeError(error: unknown, what: string): unknown {
  if (EnsembleError.isInstance(error)) return error;
  const name = (error as { name?: string }).name ?? '';
  const message = (error as { message?: string }).message ?? String(error);
  if (name === 'PineconeNotFoundError')
    return new EnsembleError('not_found', `${what} does not exist in Pinecone`, { cause: error });
  if (name === 'PineconeConflictError')
    return new EnsembleError('conflict', `${what} already exists in Pinecone`, { cause: error });
  if (name === 'PineconeBadRequestError' || name === 'PineconeArgumentError') {
    return new EnsembleError('validation_failed', `Pinecone refused the request: ${message}`, { cause: error });
  }
  if (name === 'PineconeAuthorizationError') {
    return new EnsembleError('upstream_auth_failed', 'Pinecone refused the API key (PINECONE_API_KEY)', {
      cause: error,
    });
  }
  return new EnsembleError('upstream_error', `Pinecone failed: ${message}`, { cause: error });
}
