import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { FastifyPluginAsyncZod, ZodTypeProvider } from 'fastify-type-provider-zod';

/** The app `buildApp` returns: a Fastify instance whose routes are typed by their zod schemas. */
export type EnsembleApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression<RawServerDefault>,
  RawReplyDefaultExpression<RawServerDefault>,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/**
 * A domain module: a plain (encapsulated) plugin whose routes declare zod schemas, optionally mounted
 * under a prefix. Modules add themselves through `buildApp({ modules })`, never by editing app.ts.
 */
export type EnsembleModule = FastifyPluginAsyncZod | { plugin: FastifyPluginAsyncZod; prefix?: string };
