import type { DependencyCheck } from '@ensemble/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { healthSchema, type Readiness, readinessSchema } from './health-schemas.ts';
import { runDependencyChecks } from './run-dependency-checks.ts';

export interface HealthModuleOptions {
  checks: readonly DependencyCheck[];
  checkTimeoutMs: number;
  version: string;
}

/** Liveness (`/healthz`: the process answers) and readiness (`/readyz`: its dependencies do too). */
export const healthModule: FastifyPluginAsyncZod<HealthModuleOptions> = async (app, options) => {
  app.get(
    '/healthz',
    {
      config: { servesWhileClosing: true },
      schema: {
        tags: ['health'],
        summary: 'Liveness: the process is up',
        response: { 200: healthSchema },
      },
    },
    async () => ({ status: 'ok' as const, uptimeSeconds: Math.round(process.uptime()), version: options.version }),
  );

  app.get(
    '/readyz',
    {
      config: { servesWhileClosing: true },
      schema: {
        tags: ['health'],
        summary: 'Readiness: every dependency answers within its deadline',
        response: { 200: readinessSchema, 503: readinessSchema },
      },
    },
    async (request, reply) => {
      if (app.lifecycle.phase !== 'running') {
        const body: Readiness = { status: 'unavailable', reason: 'shutting_down', checks: {} };
        return reply.code(503).send(body);
      }
      const report = await runDependencyChecks(options.checks, {
        timeoutMs: options.checkTimeoutMs,
        logger: request.log,
      });
      const body: Readiness = { status: report.ready ? 'ready' : 'unavailable', checks: report.checks };
      return reply.code(report.ready ? 200 : 503).send(body);
    },
  );
};
