import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { createServer as createHttp2Server, type Http2Session, type ServerHttp2Stream } from 'node:http2';
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

export interface ReplayServerOptions {
  /**
   * Cleartext HTTP/2, as the AWS SDK's Bedrock client speaks by default (its NodeHttp2Handler);
   * everything else is HTTP/1.1.
   */
  http2?: boolean;
}

async function writeHttp2(stream: ServerHttp2Stream, response: ReplayResponse): Promise<void> {
  stream.respond({
    ':status': response.status ?? 200,
    ...(response.headers ?? { 'content-type': 'application/json' }),
  });
  if (response.chunks === undefined) {
    stream.end(response.body ?? '');
    return;
  }
  for (const chunk of response.chunks) {
    if (stream.destroyed) return;
    stream.write(chunk);
    await sleep(response.chunkDelayMs ?? 2);
  }
  stream.end();
}

/** A local HTTP server on 127.0.0.1 that replays recorded provider responses and records the requests. */
export async function startReplayServer(options: ReplayServerOptions = {}): Promise<ReplayServer> {
  const queue: ReplayResponse[] = [];
  const requests: RecordedRequest[] = [];
  const record = (method: string, url: string, headers: IncomingHttpHeaders, body: string): ReplayResponse => {
    requests.push({ method, url, headers, body, json: () => JSON.parse(body) as Record<string, unknown> });
    return (
      queue.shift() ?? {
        status: 599,
        body: JSON.stringify({ error: `replay server: no recorded response queued for ${method} ${url}` }),
      }
    );
  };
  const readBody = (source: NodeJS.ReadableStream, done: (body: string) => void) => {
    const parts: Buffer[] = [];
    source.on('data', (part: Buffer) => parts.push(part));
    source.on('end', () => done(Buffer.concat(parts).toString('utf8')));
  };

  if (options.http2 === true) {
    const sessions = new Set<Http2Session>();
    const server = createHttp2Server();
    server.on('session', (session) => {
      sessions.add(session);
      session.on('close', () => sessions.delete(session));
    });
    server.on('stream', (stream, headers) => {
      readBody(stream, (body) => {
        const method = String(headers[':method'] ?? 'GET');
        const url = String(headers[':path'] ?? '/');
        const response = record(method, url, headers, body);
        const answer = async () => {
          if (response.delayMs !== undefined) await sleep(response.delayMs);
          if (!stream.destroyed) await writeHttp2(stream, response);
        };
        answer().catch(() => stream.destroy());
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
          for (const session of sessions) session.destroy();
          server.close(() => resolve());
        }),
    };
  }

  const server = createServer((req, res) => {
    readBody(req, (body) => {
      const response = record(req.method ?? 'GET', req.url ?? '/', req.headers, body);
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
