import {
  type AuditLog,
  type Authenticator,
  type DependencyCheck,
  type EnsembleConfig,
  type FailureCounter,
  noScaleInProtection,
  type ScaleInProtection,
  type SessionAuthenticator,
} from '@ensemble/core';
import Fastify, { type FastifyBaseLogger, LogController } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import packageJson from '../package.json' with { type: 'json' };
import type { EnsembleApp, EnsembleModule } from './app-types.ts';
import { createClientErrorHandler } from './errors/client-error-handler.ts';
import { ErrorFormatterRegistry } from './errors/error-formatter-registry.ts';
import { createErrorResponder } from './errors/error-responder.ts';
import { formatOpenAiError } from './errors/openai-error-body.ts';
import { lazyChildLogger } from './lazy-child-logger.ts';
import type { LimitsEnforcer } from './limits/limits-enforcer.ts';
import { createLogger } from './logger.ts';
import { healthModule } from './modules/health/health-module.ts';
import audit from './plugins/audit.ts';
import authentication from './plugins/authentication.ts';
import errorHandler from './plugins/error-handler.ts';
import lifecycle from './plugins/lifecycle.ts';
import limits from './plugins/limits.ts';
import metrics, { type MetricsOptions } from './plugins/metrics.ts';
import openApi from './plugins/openapi.ts';
import outboundUrls from './plugins/outbound-urls.ts';
import scaleInProtection from './plugins/scale-in-protection.ts';
import securityHeaders from './plugins/security-headers.ts';
import { requestIdFor, requestIdHeader } from './request-id.ts';
import type { OutboundGuard } from './security/outbound-guard.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route bounds its own calls, so it gets no `server.requestTimeoutMs` deadline from Fastify. */
    ownDeadline?: boolean;
  }
}

export interface BuildAppOptions {
  config: EnsembleConfig;
  /** A pino logger; one is made from `config.log.level` when omitted. */
  logger?: Logger;
  /**
   * Checks the API key of every `/v1` and `/api` request (required: there is no way to turn
   * authentication off). The CLI passes the PostgreSQL-backed key store.
   */
  authenticator: Authenticator;
  /** Console sessions (cookie) accepted on `/v1` and `/api` besides keys; omitted, keys only. */
  sessions?: SessionAuthenticator;
  /** Failed key and session attempts counted across instances (PostgreSQL); omitted, per instance. */
  failureCounter?: FailureCounter;
  /** Rate limits and budgets per key and project (docs/security.md); omitted, nothing is limited. */
  limits?: LimitsEnforcer;
  /** Checks every URL a request body gives Ensemble to call (SSRF); omitted, none are checked. */
  outbound?: OutboundGuard;
  /** Where administrative changes are appended (docs/security.md); omitted, none are recorded. */
  audit?: AuditLog;
  /** What `/readyz` checks: the database, the event bus. */
  checks: readonly DependencyCheck[];
  /** Domain modules, registered after the infrastructure, in order. */
  modules?: readonly EnsembleModule[];
  /** Deadline of each readiness check. */
  readinessTimeoutMs?: number;
  /** Held while requests to routes marked `config.scaleInProtection` are open (ECS task protection). */
  scaleInProtection?: ScaleInProtection;
  /** Serves `GET /metrics` (Prometheus) with these collectors; omitted, there is no such route. */
  metrics?: MetricsOptions;
  /** Reported by `/healthz` and the OpenAPI document; the server package's version by default. */
  version?: string;
}

/**
 * Builds the HTTP app without listening (the CLI or `listen()` does that; tests use `inject`).
 * Resolves once every plugin and module has loaded, so the app is ready to listen.
 */
export async function buildApp(options: BuildAppOptions): Promise<EnsembleApp> {
  const { config } = options;
  const logger = options.logger ?? createLogger({ level: config.log.level });
  // Widened so the app's type names Fastify's logger interface, not pino's concrete class.
  const loggerInstance: FastifyBaseLogger = logger;
  const version = options.version ?? packageJson.version;
  const formatters = new ErrorFormatterRegistry(formatOpenAiError);
  const respond = createErrorResponder({ formatters, bodyLimitBytes: config.server.bodyLimitBytes });

  const app = Fastify({
    loggerInstance,
    bodyLimit: config.server.bodyLimitBytes,
    // Slow senders hit Node's `requestTimeout` (408); the handler's deadline is set per route below.
    requestTimeout: config.server.requestTimeoutMs,
    genReqId: requestIdFor,
    logController: new LogController({
      requestIdLogLabel: 'requestId',
      // Probes arrive every few seconds; their failures are logged by the checks themselves.
      disableRequestLogging: (request: { url?: string }) => request.url === '/healthz' || request.url === '/readyz',
    }),
    // Only a deployment that knows its proxies may trust X-Forwarded-* (off by default).
    trustProxy: trustProxyOption(config.server.trustProxy),
    // The lifecycle plugin answers 503 in our error shape instead of Fastify's fixed body.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    clientErrorHandler: createClientErrorHandler(logger),
    // Bad URLs and the like never reach a route; answer them like every other error.
    frameworkErrors: (error, request, reply) => {
      respond(error, request, reply);
    },
  }).withTypeProvider<ZodTypeProvider>();

  // Every route's whole lifecycle gets `requestTimeoutMs` (504 `timeout`) unless it sets its own, or keeps
  // its own deadline (`config.ownDeadline`): Fastify's costs an AbortController, a timer and a
  // DOMException per request (≈6% of a /v1 pass-through's CPU), which the gateway's hot path avoids.
  app.addHook('onRoute', (route) => {
    if (route.config?.ownDeadline === true) return;
    route.handlerTimeout ??= config.server.requestTimeoutMs;
  });
  // Requests get a pino child only when they log at an enabled level (lazy-child-logger.ts).
  app.setChildLoggerFactory(lazyChildLogger);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // JSON is the only body type by default; a module that takes another registers its own parser.
  app.removeContentTypeParser('text/plain');

  app.addHook('onRequest', async (request, reply) => {
    reply.header(requestIdHeader, request.id);
  });

  await app.register(errorHandler, { formatters, respond });
  await app.register(lifecycle);
  // Before authentication: a CORS preflight carries no key.
  await app.register(securityHeaders, { corsOrigins: config.server.corsOrigins });
  await app.register(authentication, {
    authenticator: options.authenticator,
    failedAttemptsPerMinute: config.auth.failedAttemptsPerMinute,
    ...(options.sessions === undefined ? {} : { sessions: options.sessions }),
    ...(options.failureCounter === undefined ? {} : { failureCounter: options.failureCounter }),
  });
  if (options.limits) await app.register(limits, { enforcer: options.limits });
  if (options.audit) await app.register(audit, { log: options.audit });
  if (options.outbound) await app.register(outboundUrls, { guard: options.outbound });
  await app.register(openApi, { version });
  await app.register(scaleInProtection, { protection: options.scaleInProtection ?? noScaleInProtection });
  if (options.metrics) await app.register(metrics, options.metrics);
  await app.register(healthModule, {
    checks: options.checks,
    checkTimeoutMs: options.readinessTimeoutMs ?? 2_000,
    version,
  });
  for (const module of options.modules ?? []) {
    if (typeof module === 'function') await app.register(module);
    else await app.register(module.plugin, module.prefix === undefined ? {} : { prefix: module.prefix });
  }

  await app.ready();
  return app;
}

/** A hop count means "trust the nearest n proxies", which is what proxy-addr's hop index gives. */
function trustProxyOption(
  setting: boolean | number | string,
): boolean | string | ((address: string, hop: number) => boolean) {
  return typeof setting === 'number' ? (_address, hop) => hop < setting : setting;
}
