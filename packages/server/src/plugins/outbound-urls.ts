import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { OutboundGuard } from '../security/outbound-guard.ts';

/** Body fields that name a URL Ensemble will call: checked on every route that takes one. */
const urlFields = new Set(['baseUrl', 'webhookUrl', 'url', 'endpoint_url', 'endpointUrl']);
/**
 * Fields that carry a caller's data for a model or a pipeline, not settings: an image in a chat message
 * (`image_url.url`, often a `data:` URL) is read by the provider, never fetched by Ensemble, and a
 * pipeline's input is templated into steps whose own URLs are checked when saved and when connecting.
 */
const callerData = new Set(['messages', 'input', 'inputs']);

/**
 * Checks every URL-taking field of every request body (`baseUrl`, `webhookUrl`, `webhook.url`,
 * a pipeline step's `url`, …) with the outbound guard before the handler runs: a 400 names the field.
 * By field name rather than per route, so a new module's URL fields are guarded without a line here;
 * the caller's data (`messages`, `input`, `inputs`) is left alone.
 */
async function outboundUrlsPlugin(app: FastifyInstance, { guard }: { guard: OutboundGuard }): Promise<void> {
  app.addHook('preHandler', async (request) => {
    const { body } = request;
    if (body === null || typeof body !== 'object' || request.method === 'GET') return;
    const found: Array<[string, string]> = [];
    collect(body, 'body', found, 0);
    for (const [field, url] of found) await guard.check(url, field);
  });
}

function collect(value: unknown, path: string, found: Array<[string, string]>, depth: number): void {
  if (depth > 12 || value === null || typeof value !== 'object' || found.length > 100) return;
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

export default fp(outboundUrlsPlugin, { name: 'ensemble-outbound-urls', fastify: '5.x' });
