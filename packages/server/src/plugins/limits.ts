import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { LimitsEnforcer } from '../limits/limits-enforcer.ts';

export interface LimitsPluginOptions {
  enforcer: LimitsEnforcer;
}

/**
 * Rate limits and budgets on every request made with a key, after authentication and before the
 * body is read (so a refused client cannot make Ensemble parse a large body either).
 */
async function limitsPlugin(app: FastifyInstance, { enforcer }: LimitsPluginOptions): Promise<void> {
  app.addHook('onRequest', async (request, reply) => {
    const { keyId, projectId } = request.principal;
    if (keyId === null) return;
    await enforcer.check(projectId, keyId, reply);
  });
}

export default fp(limitsPlugin, { name: 'ensemble-limits', fastify: '5.x', dependencies: ['ensemble-authentication'] });
