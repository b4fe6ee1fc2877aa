import type { OpenAiWireTarget } from '@ensemble/core';

export type WireOperation = 'chat/completions' | 'embeddings';

/** Where one operation of a wire target is sent, and with which headers; computed once per target. */
export interface WireEndpoint {
  origin: string;
  path: string;
  headers: Record<string, string>;
}

const computed = new WeakMap<OpenAiWireTarget, Map<WireOperation, WireEndpoint>>();

export function wireEndpoint(wire: OpenAiWireTarget, operation: WireOperation): WireEndpoint {
  let byOperation = computed.get(wire);
  if (byOperation === undefined) {
    byOperation = new Map();
    computed.set(wire, byOperation);
  }
  let endpoint = byOperation.get(operation);
  if (endpoint === undefined) {
    const url = new URL(`${wire.baseUrl}/${operation}${wire.query === '' ? '' : `?${wire.query}`}`);
    endpoint = {
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      headers: { ...wire.headers, 'content-type': 'application/json' },
    };
    byOperation.set(operation, endpoint);
  }
  return endpoint;
}
