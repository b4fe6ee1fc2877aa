import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const requestIdHeader = 'x-request-id';

/** Printable, no spaces or separators that could break a log line or a header: ids from proxies and SDKs fit. */
const saneRequestId = /^[A-Za-z0-9._~:@/+=-]{1,128}$/;

/** Keeps the caller's `x-request-id` when it is sane, so one id follows a call across services. */
export function requestIdFor(request: IncomingMessage): string {
  const incoming = request.headers[requestIdHeader];
  return typeof incoming === 'string' && saneRequestId.test(incoming) ? incoming : randomUUID();
}
