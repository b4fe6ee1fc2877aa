import { request } from 'node:http';
import { connect } from 'node:net';

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One GET on a fresh connection (no pooling, so nothing lingers between tests). */
export function httpGet(port: number, path: string): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Writes raw bytes on a new connection and returns everything the server sent until it closed. */
export function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (chunk: string) => {
      received += chunk;
    });
    socket.on('close', () => resolve(received));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A reset after the answer still counts: the answer is what the test reads.
      if (error.code === 'ECONNRESET' && received !== '') resolve(received);
      else reject(error);
    });
  });
}

export interface RawConnection {
  send(bytes: string): Promise<void>;
  /** Everything the server sent, once it closed the connection. */
  received: Promise<string>;
}

/** A connection written in pieces, to be part-way through a request at a chosen moment. */
export function rawConnection(port: number): RawConnection {
  const socket = connect({ host: '127.0.0.1', port });
  const connected = new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let data = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    data += chunk;
  });
  const received = new Promise<string>((resolve, reject) => {
    socket.on('close', () => resolve(data));
    socket.on('error', (error: NodeJS.ErrnoException) => (data !== '' ? resolve(data) : reject(error)));
  });
  return {
    async send(bytes) {
      await connected;
      await new Promise<void>((resolve, reject) => socket.write(bytes, (error) => (error ? reject(error) : resolve())));
    },
    received,
  };
}
