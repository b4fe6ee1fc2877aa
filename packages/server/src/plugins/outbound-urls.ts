import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { OutboundGuard } from '../security/outbound-guard.ts';
import { urlFieldsOf } from '../security/url-fields.ts';

/**
 * Checks every URL-taking field of every request body (`baseUrl`, `webhookUrl`, `webhook.url`,
 * a pipeline step's `url`, …) with the outbound guard before the handler runs: a 400 names the field.
 * By field name rather than per route, so a new module's URL fields are guarded without a line here;
 * the caller's data (`messages`, `input`, `inputs`) is left alone.
 */
async function outboundUrlsPlugin(app: FastifyInstance, { guard }: { guard: OutboundGuard }): Promise<void> {
  app.addHook('preHandler', async (request) => {
    if (request.method === 'GET') return;
    for (const [field, url] of urlFieldsOf(request.body)) await guard.check(url, field);
  });
}

export default fp(outboundUrlsPlugin, { name: 'ensemble-outbound-urls', fastify: '5.x' });
