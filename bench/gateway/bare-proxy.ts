/**
 * The floor for gateway benchmarks: the least a Node gateway can do. `node:http` in front, an undici
 * `Pool` behind; a JSON body is parsed and re-serialized (as any gateway that reads the model must),
 * everything else — status, headers, response bytes, SSE streams — is passed through unchanged.
 *
 *   node bench/gateway/bare-proxy.ts --upstream http://127.0.0.1:PORT [--port 0] [--host 127.0.0.1]
 *
 * The CLI prints one JSON line `{"url":"http://127.0.0.1:PORT","pid":N}` once it listens.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

/** Hop-by-hop headers (RFC 9110 §7.6.1) and length, which the proxy sets itself. */
const notForwarded = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'host',
  'content-length',
]);

function forwardedHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !notForwarded.has(name)) out[name] = value;
  }
  return out;
}

function sendProxyError(res: ServerResponse, status: number, message: string, code: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { message, type: 'proxy_error', param: null, code } });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export interface BareProxy {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startBareProxy(options: {
  upstreamUrl: string;
  port?: number;
  host?: string;
  connections?: number;
}): Promise<BareProxy> {
  const pool = new Pool(options.upstreamUrl, { connections: options.connections ?? 256, pipelining: 1 });

  function forward(req: IncomingMessage, res: ServerResponse, body: Buffer | undefined): void {
    const headers = forwardedHeaders(req.headers);
    if (body !== undefined) headers['content-length'] = String(body.length);
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    pool.request({ path: req.url ?? '/', method: req.method as 'GET', headers, body, signal: abort.signal }).then(
      (upstream) => {
        const responseHeaders = forwardedHeaders(upstream.headers as IncomingHttpHeaders);
        const length = upstream.headers['content-length'];
        if (typeof length === 'string') responseHeaders['content-length'] = length;
        res.writeHead(upstream.statusCode, responseHeaders);
        upstream.body.on('error', () => res.destroy());
        upstream.body.pipe(res);
      },
      (error: unknown) => {
        if (abort.signal.aborted) return;
        sendProxyError(res, 502, `upstream request failed: ${String(error)}`, 'upstream_unreachable');
      },
    );
  }

  const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    if (req.method === 'GET' || req.method === 'HEAD') {
      req.resume();
      forward(req, res, undefined);
      return;
    }
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.concat(parts).toString('utf8'));
      } catch {
        sendProxyError(res, 400, 'the request body is not valid JSON', 'invalid_json');
        return;
      }
      forward(req, res, Buffer.from(JSON.stringify(parsed)));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await pool.close();
    },
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      upstream: { type: 'string' },
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
    },
  });
  if (!values.upstream) {
    process.stderr.write('bare-proxy: --upstream http://HOST:PORT is required\n');
    process.exit(2);
  }
  const proxy = await startBareProxy({ upstreamUrl: values.upstream, port: Number(values.port), host: values.host });
  process.stdout.write(`${JSON.stringify({ url: proxy.url, pid: process.pid })}\n`);
  const stop = () => void proxy.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
