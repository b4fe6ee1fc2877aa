import { type DocumentType, documentTypes, EnsembleError, validationError } from '@ensemble/core';
import type { OutboundGuard } from '../../security/outbound-guard.ts';

export interface DocumentFetchLimits {
  maxBytes: number;
  timeoutMs: number;
}

export interface FetchedDocument {
  bytes: Buffer;
  type: DocumentType;
}

const byExtension: Record<string, DocumentType> = {
  txt: 'text/plain',
  text: 'text/plain',
  md: 'text/markdown',
  markdown: 'text/markdown',
  html: 'text/html',
  htm: 'text/html',
  pdf: 'application/pdf',
};

/**
 * A document named by URL, fetched through the outbound guard (http(s) only, no internal address
 * unless allowed, every redirect checked again), within a size and a time limit. Its type is the
 * request's `type` when given, else the answer's `content-type`, else the URL's extension, else a
 * `%PDF-` signature. Every failure is a 400 naming `field`.
 */
export async function fetchDocument(
  guard: OutboundGuard,
  url: string,
  field: string,
  limits: DocumentFetchLimits,
  declared?: DocumentType,
): Promise<FetchedDocument> {
  const deadline = AbortSignal.timeout(limits.timeoutMs);
  let response: Awaited<ReturnType<OutboundGuard['fetch']>>;
  try {
    response = await guard.fetch(url, { timeoutMs: limits.timeoutMs, field, headers: { accept: '*/*' } });
  } catch (error) {
    throw fetchError(error, field, limits.timeoutMs);
  }
  if (response.status < 200 || response.status >= 300) {
    await response.body?.cancel();
    throw validationError(field, `the server answered ${response.status}, not the document`);
  }
  const length = Number(response.headers.get('content-length') ?? 0);
  if (length > limits.maxBytes) {
    await response.body?.cancel();
    throw validationError(field, `the document is ${length} bytes, over the ${limits.maxBytes}-byte limit`);
  }
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const part of response.body ?? []) {
      size += part.length;
      if (size > limits.maxBytes) {
        throw validationError(field, `the document is over the ${limits.maxBytes}-byte limit`);
      }
      if (deadline.aborted) throw validationError(field, `the document did not arrive within ${limits.timeoutMs} ms`);
      parts.push(Buffer.from(part));
    }
  } catch (error) {
    await response.body?.cancel().catch(() => {});
    throw fetchError(error, field, limits.timeoutMs);
  }
  const bytes = Buffer.concat(parts);
  const type = declared ?? typeOf(response.headers.get('content-type'), url, bytes);
  if (type === undefined) {
    throw validationError(
      field,
      `cannot tell the document's type (content-type '${response.headers.get('content-type') ?? ''}'); give type`,
    );
  }
  return { bytes, type };
}

function typeOf(contentType: string | null, url: string, bytes: Buffer): DocumentType | undefined {
  const media = contentType?.split(';')[0]?.trim().toLowerCase();
  if (media !== undefined && (documentTypes as readonly string[]).includes(media)) return media as DocumentType;
  if (media === 'text/x-markdown') return 'text/markdown';
  if (bytes.subarray(0, 5).toString('latin1') === '%PDF-') return 'application/pdf';
  const extension = new URL(url).pathname.split('.').pop()?.toLowerCase();
  if (extension !== undefined && extension in byExtension) return byExtension[extension];
  if (media === 'application/octet-stream' || media === undefined) return undefined;
  return undefined;
}

function fetchError(error: unknown, field: string, timeoutMs: number): EnsembleError {
  if (EnsembleError.isInstance(error)) return error;
  const cause = (error as { cause?: unknown }).cause;
  // The guard's connect-time check refuses inside undici's lookup: its error is the cause.
  if (EnsembleError.isInstance(cause))
    return new EnsembleError(cause.code, cause.message.replace(/^url:/, `${field}:`), { field });
  const name = (error as Error).name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return validationError(field, `the document did not arrive within ${timeoutMs} ms`);
  }
  return validationError(
    field,
    `could not be fetched: ${(cause as Error | undefined)?.message ?? (error as Error).message}`,
  );
}
