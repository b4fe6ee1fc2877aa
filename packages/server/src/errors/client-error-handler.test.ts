import assert from 'node:assert/strict';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { ConnectionError } from 'fastify';
import type { EnsembleApp } from '../app-types.ts';
import { rawExchange } from '../testing/http-client.ts';
import { buildTestApp } from '../testing/test-app.ts';
import { createClientErrorHandler } from './client-error-handler.ts';

function bodyOf(response: string): { error: { code: string; type: string; request_id: string } } {
  return JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as never;
}

describe('client errors on a real socket', () => {
  let app: EnsembleApp;
  let port: number;
  before(async () => {
    ({ app } = await buildTestApp());
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  after(() => app.close());

  test('bytes that are not HTTP get 400 in the OpenAI shape', async () => {
    const response = await rawExchange(port, 'NOT HTTP AT ALL\r\n\r\n');
    assert.match(response, /^HTTP\/1\.1 400 Bad Request/);
    const body = bodyOf(response);
    assert.equal(body.error.code, 'malformed_body');
    assert.match(response, new RegExp(`x-request-id: ${body.error.request_id}`));
  });

  test('oversized headers get 431', async () => {
    const response = await rawExchange(
      port,
      `GET /healthz HTTP/1.1\r\nHost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    assert.match(response, /^HTTP\/1\.1 431/);
    assert.equal(bodyOf(response).error.code, 'headers_too_large');
  });
});

describe('createClientErrorHandler', () => {
  function fakeSocket() {
    const socket = {
      destroyed: false,
      writable: true,
      written: '',
      write(data: string) {
        socket.written += data;
        return true;
      },
      destroy() {
        socket.destroyed = true;
      },
    };
    return socket;
  }
  const handle = createClientErrorHandler({ debug() {} });
  const connectionError = (code: string) => Object.assign(new Error(code), { code }) as unknown as ConnectionError;

  test('a request not received within requestTimeout is 408 request_timeout', () => {
    const socket = fakeSocket();
    handle(connectionError('ERR_HTTP_REQUEST_TIMEOUT'), socket as unknown as Socket);
    assert.match(socket.written, /^HTTP\/1\.1 408 Request Timeout/);
    assert.equal(bodyOf(socket.written).error.type, 'timeout_error');
    assert.equal(bodyOf(socket.written).error.code, 'request_timeout');
    assert.equal(socket.destroyed, true);
  });

  test('a reset connection is left alone', () => {
    const socket = fakeSocket();
    handle(connectionError('ECONNRESET'), socket as unknown as Socket);
    assert.equal(socket.written, '');
  });
});
