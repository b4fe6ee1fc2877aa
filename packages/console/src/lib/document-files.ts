/**
 * Which way a file goes into a collection (pure): documents (text, Markdown, HTML, PDF) through the
 * server's `/documents` endpoint, which extracts, splits and embeds them; JSON Lines as records.
 */
export type DocumentType = 'text/plain' | 'text/markdown' | 'text/html' | 'application/pdf';

export function documentTypeOf(fileName: string, mime = ''): DocumentType | 'records' | undefined {
  const name = fileName.toLowerCase();
  if (/\.(jsonl|ndjson)$/.test(name)) return 'records';
  if (name.endsWith('.pdf') || mime === 'application/pdf') return 'application/pdf';
  if (/\.(html?|xhtml)$/.test(name) || mime === 'text/html') return 'text/html';
  if (/\.(md|markdown|mdx)$/.test(name) || mime === 'text/markdown') return 'text/markdown';
  if (/\.(txt|text|csv|log|rst)$/.test(name) || mime.startsWith('text/')) return 'text/plain';
  return undefined;
}

/** A document id from its file name: the API refuses `#` (it separates a chunk's position). */
export function documentIdOf(fileName: string): string {
  return fileName.replaceAll('#', '-').slice(0, 400) || 'document';
}

/**
 * The `/documents` answer: the chunks stored at once (200), or a job doing it (202 with the job, its
 * progress on `/api/jobs/{id}/events`). Both shapes are accepted: `{job: {id}}`, `{job: "id"}`, `{jobId}`, `{id}`.
 */
export function ingestAnswerOf(
  status: number,
  body: unknown,
): { kind: 'done'; chunks: number } | { kind: 'job'; jobId: string } {
  const record = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const job = record.job;
  const jobId =
    typeof job === 'string'
      ? job
      : job && typeof job === 'object' && typeof (job as { id?: unknown }).id === 'string'
        ? (job as { id: string }).id
        : typeof record.jobId === 'string'
          ? record.jobId
          : status === 202 && typeof record.id === 'string'
            ? record.id
            : undefined;
  if (jobId !== undefined) return { kind: 'job', jobId };
  return { kind: 'done', chunks: typeof record.chunks === 'number' ? record.chunks : 0 };
}

/** A job event's end: `job.completed`, `job.failed`, `job.cancelled` (or a terminal status). */
export function jobEnded(event: { type: string; status?: string }): boolean {
  return (
    /\.(completed|completed_with_errors|failed|cancelled)$/.test(event.type) ||
    ['completed', 'completed_with_errors', 'failed', 'cancelled'].includes(event.status ?? '')
  );
}
