import { type BatchFile, errorCatalogue, isErrorCode, type Job, type StoredJobItemResult } from '@ensemble/core';

/** `batch_<20>` ⇄ `job_<20>`: a batch is a job seen through OpenAI's API. */
export const batchIdPattern = /^batch_([A-Za-z0-9]{20})$/;
/** The output and error files of a batch are made from its results when read: `file-out_<20>`, `file-err_<20>`. */
export const resultFilePattern = /^file-(out|err)_([A-Za-z0-9]{20})$/;

export function batchIdOf(jobId: string): string {
  return `batch_${jobId.slice('job_'.length)}`;
}

export function jobIdOf(batchId: string): string | undefined {
  const match = batchIdPattern.exec(batchId);
  return match ? `job_${match[1]}` : undefined;
}

const seconds = (date: Date | null) => (date === null ? null : Math.floor(date.getTime() / 1000));

/** A job as OpenAI's `batch` object. */
export function batchObject(job: Job) {
  const details = (job.sourceDetails ?? {}) as { endpoint?: string; completionWindow?: string; inputFileId?: string };
  const suffix = job.id.slice('job_'.length);
  const ended = job.status === 'completed' || job.status === 'completed_with_errors';
  const status =
    job.status === 'queued'
      ? 'validating'
      : job.status === 'running'
        ? 'in_progress'
        : job.status === 'cancelled'
          ? 'cancelled'
          : 'completed';
  return {
    id: batchIdOf(job.id),
    object: 'batch' as const,
    endpoint: details.endpoint ?? '/v1/chat/completions',
    errors: null,
    input_file_id: details.inputFileId ?? null,
    completion_window: details.completionWindow ?? '24h',
    status,
    output_file_id:
      job.counts.succeeded > 0 && job.status !== 'queued' && job.status !== 'running' ? `file-out_${suffix}` : null,
    error_file_id: job.counts.failed > 0 && (ended || job.status === 'cancelled') ? `file-err_${suffix}` : null,
    created_at: seconds(job.createdAt) as number,
    in_progress_at: seconds(job.startedAt),
    expires_at: (seconds(job.createdAt) as number) + 24 * 3_600,
    finalizing_at: ended ? seconds(job.finishedAt) : null,
    completed_at: ended ? seconds(job.finishedAt) : null,
    failed_at: null,
    expired_at: null,
    cancelling_at: seconds(job.cancelledAt),
    cancelled_at: seconds(job.cancelledAt),
    request_counts: { total: job.counts.total, completed: job.counts.succeeded, failed: job.counts.failed },
    metadata: Object.keys(job.metadata).length === 0 ? null : job.metadata,
  };
}

/** An uploaded file as OpenAI's `file` object. */
export function fileObject(file: BatchFile) {
  return {
    id: file.id,
    object: 'file' as const,
    bytes: file.bytes,
    created_at: Math.floor(file.createdAt.getTime() / 1000),
    filename: file.filename,
    purpose: file.purpose,
    status: 'processed' as const,
    status_details: null,
  };
}

/** A batch's output or error file as OpenAI's `file` object (its size is not known before it is read). */
export function resultFileObject(id: string, kind: 'out' | 'err', job: Job) {
  return {
    id,
    object: 'file' as const,
    bytes: 0,
    created_at: Math.floor((job.finishedAt ?? job.createdAt).getTime() / 1000),
    filename: `${batchIdOf(job.id)}_${kind === 'out' ? 'output' : 'error'}.jsonl`,
    purpose: kind === 'out' ? 'batch_output' : 'batch_output',
    status: 'processed' as const,
    status_details: null,
  };
}

/** One line of a batch's output or error file, in OpenAI's format. */
export function resultFileLine(jobId: string, result: StoredJobItemResult): string {
  const suffix = jobId.slice('job_'.length);
  const id = `batch_req_${suffix}_${result.index}`;
  const requestId = `req_${suffix}_${result.index}`;
  if (result.status === 'succeeded') {
    return `{"id":${JSON.stringify(id)},"custom_id":${JSON.stringify(result.customId)},"response":{"status_code":200,"request_id":${JSON.stringify(requestId)},"body":${result.outputJson ?? 'null'}},"error":null}\n`;
  }
  const code = result.error?.code ?? 'internal_error';
  const spec = isErrorCode(code) ? errorCatalogue[code] : errorCatalogue.internal_error;
  const body = { error: { message: result.error?.message ?? 'failed', type: spec.type, param: null, code } };
  return `${JSON.stringify({ id, custom_id: result.customId, response: { status_code: spec.httpStatus, request_id: requestId, body }, error: null })}\n`;
}
