import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** One recorded answer to replay: a whole body, or chunks written one by one (SSE, AWS event stream). */
export interface ReplayResponse {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  chunks?: Array<string | Uint8Array>;
  /** Pause between chunks, so the client sees them arrive separately. */
  chunkDelayMs?: number;
  /** Wait before answering at all (timeout tests). */
  delayMs?: number;
}

export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. `/v1/chat/completions?api-version=2024-10-21`. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  json(): Record<string, unknown>;
}

export interface ReplayServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Queues answers; each request takes the next one, in order. */
  reply(...responses: ReplayResponse[]): void;
  close(): Promise<void>;
}

async function write(res: ServerResponse, response: ReplayResponse): Promise<void> {
  res.writeHead(response.status ?? 200, response.headers ?? { 'content-type': 'application/json' });
  if (response.chunks === undefined) {
    res.end(response.body ?? '');
    return;
  }
  for (const chunk of response.chunks) {
    if (res.destroyed) return;
    res.write(chunk);
    await sleep(response.chunkDelayMs ?? 2);
  }
  res.end();
}

/** A local HTTP server on 127.0.0.1 that replays recorded provider responses and records the requests. */
export async function startReplayServer(): Promise<ReplayServer> {
  const queue: ReplayResponse[] = [];
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      const body = Buffer.concat(parts).toString('utf8');
      requests.push({
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body,
        json: () => JSON.parse(body) as Record<string, unknown>,
      });
      const response = queue.shift() ?? {
        status: 599,
        body: JSON.stringify({ error: `replay server: no recorded response queued for ${req.method} ${req.url}` }),
      };
      const answer = async () => {
        if (response.delayMs !== undefined) await sleep(response.delayMs);
        if (!res.destroyed) await write(res, response);
      };
      answer().catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    reply: (...responses) => queue.push(...responses),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
