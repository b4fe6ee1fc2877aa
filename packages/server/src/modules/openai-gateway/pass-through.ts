import type { OpenAiWireTarget } from '@ensemble/core';
import type { Dispatcher } from 'undici';
import { readUsage } from './read-usage.ts';
import { upstreamStatusError, upstreamTransportError } from './upstream-errors.ts';
import type { TokenCounts } from './usage-meter.ts';
import { type WireOperation, wireEndpoint } from './wire-endpoint.ts';

/** One forwarded call: the body is already the upstream's (model swapped). */
export interface WireCall {
  dispatcher: Dispatcher;
  wire: OpenAiWireTarget;
  operation: WireOperation;
  body: string;
  /** Aborts the upstream request (client gone, attempt timed out). */
  signal: AbortSignal;
  /** `name@version`, for messages. */
  target: string;
}

/** A whole answer, as the upstream sent it. */
export interface WireAnswer {
  body: Buffer;
  contentType: string;
  usage: TokenCounts;
}

/** The most of an error body kept (they are small; a misbehaving upstream must not fill memory). */
const errorBodyLimit = 64 * 1024;

/** Sends the request; a non-2xx answer becomes the error Ensemble answers with. */
async function openUpstream(call: WireCall): Promise<Dispatcher.ResponseData> {
  const { wire, signal, target } = call;
  const endpoint = wireEndpoint(wire, call.operation);
  let response: Dispatcher.ResponseData;
  try {
    response = await call.dispatcher.request({
      origin: endpoint.origin,
      path: endpoint.path,
      method: 'POST',
      headers: endpoint.headers,
      body: call.body,
      signal,
      headersTimeout: wire.timeoutMs,
      bodyTimeout: wire.timeoutMs,
    });
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw upstreamTransportError(target, error, wire.timeoutMs);
  }
  if (response.statusCode < 200 || response.statusCode >= 300) {
    const body = await readBody(response, call, errorBodyLimit);
    throw upstreamStatusError(target, response.statusCode, response.headers, body);
  }
  return response;
}

async function readBody(response: Dispatcher.ResponseData, call: WireCall, limit?: number): Promise<Buffer> {
  try {
    if (limit === undefined) return Buffer.from(await response.body.arrayBuffer());
    const parts: Buffer[] = [];
    let length = 0;
    for await (const part of response.body) {
      parts.push(part as Buffer);
      length += (part as Buffer).length;
      if (length >= limit) {
        response.body.destroy();
        break;
      }
    }
    return Buffer.concat(parts, length);
  } catch (error) {
    if (call.signal.aborted) throw call.signal.reason;
    throw upstreamTransportError(call.target, error, call.wire.timeoutMs);
  }
}

/** A non-streamed call: the upstream's answer bytes, and its usage read from them. */
export async function passThroughJson(call: WireCall): Promise<WireAnswer> {
  const response = await openUpstream(call);
  const body = await readBody(response, call);
  const contentType = response.headers['content-type'];
  return {
    body,
    contentType: typeof contentType === 'string' ? contentType : 'application/json',
    usage: readUsage(body),
  };
}

/** A streamed call: resolves once the upstream answered 2xx, to its body's chunks as they arrive. */
export async function passThroughStream(call: WireCall): Promise<AsyncIterable<Buffer>> {
  const response = await openUpstream(call);
  return relayBody(response, call);
}

async function* relayBody(response: Dispatcher.ResponseData, call: WireCall): AsyncGenerator<Buffer> {
  try {
    for await (const part of response.body) yield part as Buffer;
  } catch (error) {
    if (call.signal.aborted) throw call.signal.reason;
    throw upstreamTransportError(call.target, error, call.wire.timeoutMs);
  } finally {
    // Stopped early (client gone, routing gave up on it): close the upstream request too.
    if (!response.body.readableEnded) response.body.destroy();
  }
}
