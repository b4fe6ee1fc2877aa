import { EnsembleError } from '@ensemble/core';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ErrorFormatterRegistry } from '../errors/error-formatter-registry.ts';
import { pathOf } from '../errors/error-formatter-registry.ts';
import type { ErrorFormatter } from '../errors/error-problem.ts';
import type { ErrorResponder } from '../errors/error-responder.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Registers the error body format for every URL under `prefix` (e.g. `/pinecone`); the OpenAI
     * shape is the default. Call it from a module's plugin.
     */
    registerErrorFormatter(prefix: string, formatter: ErrorFormatter): void;
  }
}

export interface ErrorHandlerOptions {
  formatters: ErrorFormatterRegistry;
  respond: ErrorResponder;
}

/** One error handler and one not-found handler for the whole app, set at the root so modules inherit them. */
async function errorHandlerPlugin(app: FastifyInstance, options: ErrorHandlerOptions): Promise<void> {
  app.decorate('registerErrorFormatter', (prefix: string, formatter: ErrorFormatter) => {
    options.formatters.register(prefix, formatter);
  });

  app.setErrorHandler((error, request, reply) => options.respond(error, request, reply));

  // Fastify answers a known path with an unknown method as not found too, so 404 is the consistent answer.
  app.setNotFoundHandler((request, reply) => {
    const path = pathOf(request.url).slice(0, 200);
    const error = new EnsembleError('route_not_found', `No route for ${request.method} ${path}`);
    return options.respond(error, request, reply);
  });
}

export default fp(errorHandlerPlugin, { name: 'ensemble-error-handler', fastify: '5.x' });
