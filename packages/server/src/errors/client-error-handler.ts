import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { type ErrorCode, errorCatalogue } from '@ensemble/core';
import type { ConnectionError } from 'fastify';
import type { Logger } from 'pino';
import { requestIdHeader } from '../request-id.ts';
import type { OpenAiErrorBody } from './openai-error-body.ts';

interface SocketFailure {
  code: ErrorCode;
  message: string;
}

/**
 * Failures below HTTP: the request never became a request (a client too slow to send it within
 * `requestTimeoutMs`, oversized headers, bytes that are not HTTP), answered with the catalogue's
 * socket-level codes (408, 431, 400).
 */
function describe(error: ConnectionError): SocketFailure {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { code: 'request_timeout', message: 'The request was not received in time' };
    case 'HPE_HEADER_OVERFLOW':
      return { code: 'headers_too_large', message: 'The request headers are too large' };
    default:
      return { code: 'malformed_body', message: 'The request is not valid HTTP' };
  }
}

/** Fastify's `clientErrorHandler`, answering in the same OpenAI error shape as everything else. */
export function createClientErrorHandler(logger: Pick<Logger, 'debug'>) {
  return (error: ConnectionError, socket: Socket): void => {
    // A reset or an already destroyed socket has no one left to answer.
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const failure = describe(error);
    const { httpStatus: status, type } = errorCatalogue[failure.code];
    const requestId = randomUUID();
    logger.debug({ err: error, requestId, status }, 'client error');
    if (socket.writable) {
      const body: OpenAiErrorBody = {
        error: { message: failure.message, type, param: null, code: failure.code, request_id: requestId },
      };
      const payload = JSON.stringify(body);
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
          `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n` +
          `${requestIdHeader}: ${requestId}\r\nConnection: close\r\n\r\n${payload}`,
      );
    }
    socket.destroy(error);
  };
}
