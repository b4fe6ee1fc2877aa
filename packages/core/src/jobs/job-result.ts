/** How one item ended: an answer, or an error after its retries. */
export type JobItemStatus = 'succeeded' | 'failed';

export interface JobItemError {
  /** An Ensemble error code (`upstream_error`, `timeout`, `upstream_bad_request` …). */
  code: string;
  message: string;
  /** Whether trying again later might succeed (what `retry-failed` is for). */
  retryable: boolean;
}

/** One item's result, as the worker writes it (once: the store keeps the first per item). */
export interface JobItemResult {
  index: number;
  status: JobItemStatus;
  /** The model's answer in OpenAI's shape (a `chat.completion`, an embedding list), or for `embed` jobs `{embedding}`. */
  output: unknown;
  error: JobItemError | null;
  /** Calls made, the last included. */
  attempts: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number | null;
  startedAt: Date;
  finishedAt: Date;
}

/**
 * A stored result as the results download reads it: the answer stays JSON text, so a large job's
 * results are streamed out without being parsed and serialised again.
 */
export interface StoredJobItemResult {
  index: number;
  customId: string | null;
  status: JobItemStatus;
  /** The answer as JSON text; null for a failed item. */
  outputJson: string | null;
  error: JobItemError | null;
  attempts: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number | null;
  startedAt: Date;
  finishedAt: Date;
}
