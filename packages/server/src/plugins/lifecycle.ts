import { EnsembleError } from '@ensemble/core';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * running → draining (readiness fails so the load balancer stops routing here, traffic is still
 * served) → closing (`app.close()` ran: new requests get 503 `shutting_down`, in-flight ones finish).
 */
export type LifecyclePhase = 'running' | 'draining' | 'closing';

export interface Lifecycle {
  readonly phase: LifecyclePhase;
  /** Starts draining; `closeGracefully` calls it, and `app.close()` moves on to closing. */
  beginShutdown(): void;
}

declare module 'fastify' {
  interface FastifyInstance {
    readonly lifecycle: Lifecycle;
  }
  interface FastifyContextConfig {
    /** Probes answer while closing (readiness says why it is unavailable); everything else gets 503. */
    servesWhileClosing?: boolean;
  }
}

async function lifecyclePlugin(app: FastifyInstance): Promise<void> {
  let phase: LifecyclePhase = 'running';
  const lifecycle: Lifecycle = {
    get phase() {
      return phase;
    },
    beginShutdown() {
      if (phase === 'running') phase = 'draining';
    },
  };
  app.decorate('lifecycle', lifecycle);

  app.addHook('preClose', async () => {
    phase = 'closing';
  });

  // Responses sent after shutdown began close their connection, so keep-alive clients reconnect
  // elsewhere and idle sockets do not hold `close()` open until keepAliveTimeout.
  app.addHook('onSend', async (_request, reply) => {
    if (phase !== 'running') reply.header('connection', 'close');
  });

  app.addHook('onRequest', async (request) => {
    if (phase !== 'closing') return;
    // Requests can still arrive on connections opened before close: refuse them in our error shape.
    if (request.routeOptions.config.servesWhileClosing === true) return;
    throw new EnsembleError('shutting_down', 'The server is shutting down; retry the request', {
      retryAfterSeconds: 1,
    });
  });
}

export default fp(lifecyclePlugin, { name: 'ensemble-lifecycle', fastify: '5.x' });
