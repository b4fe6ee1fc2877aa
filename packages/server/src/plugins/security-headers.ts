import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export interface SecurityHeadersOptions {
  /** Origins (`https://console.example.com`) browsers may call the API from; none by default. */
  corsOrigins: readonly string[];
}

/** Response headers an API (and any console page it serves) needs whatever it answers. */
const always: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'x-permitted-cross-domain-policies': 'none',
};

const exposed = [
  'x-request-id',
  'retry-after',
  'x-ratelimit-limit-requests',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-reset-requests',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-reset-tokens',
].join(', ');

/**
 * Security headers on every answer (HSTS when the request came over HTTPS), and strict CORS: only
 * the configured origins get `Access-Control-Allow-Origin` (echoed, never `*`, with `Vary: Origin`);
 * their preflights are answered here, before authentication (a preflight carries no key). Another
 * origin's preflight gets 403 and no CORS headers, so the browser refuses the call.
 */
async function securityHeadersPlugin(app: FastifyInstance, { corsOrigins }: SecurityHeadersOptions): Promise<void> {
  const origins = new Set(corsOrigins);
  app.addHook('onRequest', async (request, reply) => {
    reply.headers(always);
    if (request.protocol === 'https') reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains');
    const origin = request.headers.origin;
    if (origin === undefined) return;
    reply.header('vary', 'Origin');
    const allowed = origins.has(origin);
    if (allowed) {
      reply.header('access-control-allow-origin', origin);
      reply.header('access-control-expose-headers', exposed);
    }
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) {
      if (!allowed) return reply.code(403).send();
      reply.header('access-control-allow-methods', 'GET, POST, PUT, PATCH, DELETE');
      reply.header(
        'access-control-allow-headers',
        'authorization, content-type, x-ensemble-project, idempotency-key, x-request-id, api-key',
      );
      reply.header('access-control-max-age', '600');
      return reply.code(204).send();
    }
  });
}

export default fp(securityHeadersPlugin, { name: 'ensemble-security-headers', fastify: '5.x' });
