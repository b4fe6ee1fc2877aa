/** What conditional routes may look at: everything known about a request before it is sent. */
export interface RouteContext {
  /** The request's `metadata` (OpenAI's field) merged with anything the gateway adds. */
  metadata?: Readonly<Record<string, unknown>>;
  /** HTTP headers; names are matched case-insensitively. */
  headers?: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The API key that made the call. */
  key?: { readonly id: string; readonly tags?: readonly string[] };
  /** Request parameters: `model`, `max_tokens`, `stream`, `temperature`, … */
  params?: Readonly<Record<string, unknown>>;
}

/** Fields a condition may name: `metadata.<path>`, `params.<path>`, `headers.<name>`, `key.id`, `key.tags`. */
export const contextFieldPattern =
  /^(?:(?:metadata|params)\.[A-Za-z0-9_$-]+(?:\.[A-Za-z0-9_$-]+)*|headers\.[!#$%&'*+.^_`|~0-9A-Za-z-]+|key\.(?:id|tags))$/;

/** The value a condition field names, or `undefined` when the request does not carry it. */
export function readContextField(context: RouteContext, field: string): unknown {
  const dot = field.indexOf('.');
  const root = field.slice(0, dot);
  const rest = field.slice(dot + 1);
  if (root === 'headers') return readHeader(context.headers, rest);
  if (root === 'key') return rest === 'id' ? context.key?.id : context.key?.tags;
  const source = root === 'metadata' ? context.metadata : root === 'params' ? context.params : undefined;
  let value: unknown = source;
  for (const part of rest.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, part)) {
      return undefined;
    }
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function readHeader(headers: RouteContext['headers'], name: string): unknown {
  if (headers === undefined) return undefined;
  const wanted = name.toLowerCase();
  const exact = Object.hasOwn(headers, wanted) ? headers[wanted] : undefined;
  if (exact !== undefined) return exact;
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}
