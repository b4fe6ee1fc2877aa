import { defaultProjectId, type Principal } from '@ensemble/core';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling; handlers take the project from here. */
    principal: Principal;
  }
}

/**
 * Until API keys authenticate requests, every caller is the default project's admin. Handlers
 * already read `request.principal`, so authentication replaces only this plugin.
 */
const anonymousAdmin: Principal = Object.freeze({ keyId: null, projectId: defaultProjectId, admin: true, tags: [] });

export default fp(
  async (app) => {
    app.decorateRequest('principal', null as unknown as Principal);
    app.addHook('onRequest', async (request) => {
      request.principal = anonymousAdmin;
    });
  },
  { name: 'ensemble-principal' },
);
