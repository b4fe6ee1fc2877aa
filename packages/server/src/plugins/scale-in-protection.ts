import type { ScaleInProtection } from '@ensemble/core';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Long-lived routes (streams, SSE) keep the task from being scaled in while they are open. */
    scaleInProtection?: boolean;
  }
}

/**
 * Holds scale-in protection for the life of each request to a route marked `scaleInProtection`,
 * released when the response ends or the client goes away, whichever comes first: the response's
 * `close` says both (the request's fires as soon as its body is read, before a stream ends). One
 * listener on the response, none on the socket: a keep-alive socket serves many requests, and a
 * listener per request on it would pile up until the connection closes.
 */
async function scaleInProtectionPlugin(app: FastifyInstance, { protection }: { protection: ScaleInProtection }) {
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.scaleInProtection !== true) return;
    const release = protection.hold(`${request.method} ${request.routeOptions.url ?? request.url}`);
    reply.raw.once('close', release);
  });
}

export default fp(scaleInProtectionPlugin, { name: 'ensemble-scale-in-protection' });
