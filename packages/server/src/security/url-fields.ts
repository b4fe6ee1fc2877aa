/** Body fields that name a URL Ensemble will call: checked on every route that takes one. */
const urlFields = new Set(['baseUrl', 'webhookUrl', 'url', 'endpoint_url', 'endpointUrl']);
/**
 * Fields that carry a caller's data for a model or a pipeline, not settings: an image in a chat message
 * (`image_url.url`, often a `data:` URL) is read by the provider, never fetched by Ensemble, and a
 * pipeline's input is templated into steps whose own URLs are checked when saved and when connecting.
 */
const callerData = new Set(['messages', 'input', 'inputs']);

/** The absolute URLs in a request body's URL fields, with their paths (`body.webhook.url`); at most ~100. */
export function urlFieldsOf(body: unknown): Array<[string, string]> {
  const found: Array<[string, string]> = [];
  collect(body, 'body', found, 0);
  return found;
}

/**
 * Only parsed JSON is walked: a streamed body (an upload's `IncomingMessage`) or a Buffer is an object
 * too, and walking it would wander through sockets and buffers byte by byte, blocking the event loop.
 */
function isJsonValue(value: unknown): value is Record<string, unknown> | unknown[] {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return true;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function collect(value: unknown, path: string, found: Array<[string, string]>, depth: number): void {
  if (depth > 12 || !isJsonValue(value) || found.length > 100) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      collect(item, `${path}[${i}]`, found, depth + 1);
    });
    return;
  }
  for (const [key, field] of Object.entries(value)) {
    const here = `${path}.${key}`;
    if (callerData.has(key)) continue;
    // `url` as in OpenAI's batch lines names an endpoint path, not a host: only absolute URLs count.
    if (typeof field === 'string' && urlFields.has(key) && /^[a-z][a-z0-9+.-]*:/i.test(field))
      found.push([here, field]);
    else if (key === 'webhook' && field !== null && typeof field === 'object') collect(field, here, found, depth + 1);
    else collect(field, here, found, depth + 1);
  }
}
