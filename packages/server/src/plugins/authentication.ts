import {
  type AuthenticationFailure,
  type Authenticator,
  accessAllows,
  authenticationFailed,
  defaultProjectId,
  EnsembleError,
  isPlausibleApiKeySecret,
  notFound,
  type Principal,
  projectIdSchema,
  type RoleRule,
  roleRuleFor,
} from '@ensemble/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { type ApiKeyScheme, bearerScheme } from '../auth/api-key-scheme.ts';
import { ApiKeySchemes } from '../auth/api-key-schemes.ts';
import { FailedAttempts } from '../auth/failed-attempts.ts';
import { sourceAllowed } from '../auth/source-address.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling, from the API key; handlers take the project from here. */
    principal: Principal;
  }
  interface FastifyInstance {
    /**
     * Requires an API key, sent in `scheme`'s form, on every URL under `prefix` (e.g. `/pinecone` with
     * `headerScheme('Api-Key')`). `/v1` and `/api` take `Authorization: Bearer` already.
     */
    requireApiKey(prefix: string, scheme: ApiKeyScheme): void;
    /** The OpenAPI security schemes of the routes registered so far, by name: one live object. */
    apiKeySecuritySchemes(): Record<string, unknown>;
  }
  interface FastifyContextConfig {
    /** Only platform admin keys may call this route (403 for others), whatever the role matrix says. */
    adminOnly?: boolean;
    /** Set at registration from the role matrix (core security/role-matrix.ts): who may call the route. */
    roleRule?: RoleRule;
  }
}

export interface AuthenticationOptions {
  /** Checks presented keys; the CLI wires the PostgreSQL-backed store, module tests an in-memory one. */
  authenticator: Authenticator;
  /** Failed key attempts a source address may make per minute before it is refused (429); 0: no limit. */
  failedAttemptsPerMinute?: number;
}

/** The header an admin key names another project in. */
export const projectHeader = 'x-ensemble-project';

/** Open routes (`/healthz`, `/docs`) read no principal; this one may do nothing if one ever did. */
const nobody: Principal = Object.freeze({
  keyId: null,
  projectId: defaultProjectId,
  admin: false,
  role: 'viewer',
  allowedModels: Object.freeze([]),
  tags: Object.freeze([]),
});

const refusals: Record<AuthenticationFailure, string> = {
  unknown: 'Invalid API key',
  expired: 'This API key has expired',
  revoked: 'This API key has been revoked',
};

/**
 * Authenticates every request under a protected prefix before its body is read: the key from the
 * scheme's header, the principal from the authenticator, then the project header and `adminOnly`.
 * A 401 comes in the error shape of the URL's API family with `WWW-Authenticate`. The key itself is
 * never logged (the logger redacts these headers) nor echoed in a message.
 */
async function authenticationPlugin(app: FastifyInstance, options: AuthenticationOptions): Promise<void> {
  const { authenticator } = options;
  const failures = new FailedAttempts({ limitPerMinute: options.failedAttemptsPerMinute ?? 30 });
  const schemes = new ApiKeySchemes();
  schemes.register('/v1', bearerScheme);
  schemes.register('/api', bearerScheme);
  app.decorate('requireApiKey', (prefix: string, scheme: ApiKeyScheme) => schemes.register(prefix, scheme));
  app.decorateRequest('principal', null as unknown as Principal);

  // The OpenAPI document says which routes need which key, so `/docs` can send one.
  const documented: Record<string, unknown> = {};
  app.decorate('apiKeySecuritySchemes', () => documented);
  app.addHook('onRoute', (route) => {
    const scheme = schemes.resolve(route.url);
    if (scheme === undefined) return;
    documented[scheme.openApi.name] = scheme.openApi.definition;
    route.schema = { ...route.schema, security: [{ [scheme.openApi.name]: [] }] };
    // Looked up once here, so the request path reads a field instead of building a key per call.
    const method = Array.isArray(route.method) ? route.method[0] : route.method;
    const rule = roleRuleFor(String(method), route.url);
    route.config = {
      ...route.config,
      roleRule: route.config?.adminOnly === true ? { ...rule, access: 'platform' } : rule,
    };
  });

  app.addHook('onRequest', async (request, reply) => {
    // One read: Fastify builds `routeOptions` anew on every access.
    const route = request.routeOptions;
    // The matched route's template, not the raw URL, so no encoding of a path can slip past a prefix.
    const scheme = schemes.resolve(route.url ?? request.url);
    if (scheme === undefined) {
      request.principal = nobody;
      return;
    }
    const blocked = failures.blockedFor(request.ip);
    if (blocked > 0) {
      const seconds = Math.ceil(blocked / 1000);
      reply.header('retry-after', String(seconds));
      throw new EnsembleError(
        'rate_limited',
        `Too many failed API key attempts from this address; retry in ${seconds} s`,
        {
          details: { reason: 'failed_attempts', retryAfterSeconds: seconds },
        },
      );
    }
    const header = request.headers[scheme.header];
    if (header === undefined || header === '') {
      throw unauthorized(reply, scheme, `Missing API key: send it as ${scheme.usage}`, 'missing');
    }
    const secret = typeof header === 'string' ? scheme.parse(header) : undefined;
    if (secret === undefined) {
      throw unauthorized(reply, scheme, `The ${scheme.header} header must be ${scheme.usage}`, 'malformed');
    }
    const answer = isPlausibleApiKeySecret(secret)
      ? await authenticator.authenticate(secret)
      : authenticationFailed.unknown;
    if ('failure' in answer) {
      failures.record(request.ip);
      throw unauthorized(reply, scheme, refusals[answer.failure], answer.failure);
    }

    let principal = answer.principal;
    if (principal.allowedIps !== undefined && !sourceAllowed(principal.allowedIps, request.ip)) {
      throw new EnsembleError('forbidden', 'This API key may not be used from this address', {
        details: { reason: 'source_address' },
      });
    }
    const project = request.headers[projectHeader];
    if (project !== undefined) principal = actingFor(principal, project);
    authorize(principal, route.config.roleRule, request);
    request.principal = principal;
  });
}

function unauthorized(reply: FastifyReply, scheme: ApiKeyScheme, message: string, reason: string): EnsembleError {
  if (scheme.challenge !== undefined) reply.header('www-authenticate', scheme.challenge);
  return new EnsembleError('unauthorized', message, { field: `headers.${scheme.header}`, details: { reason } });
}

/** An admin key may act on any project; any other key only on its own. */
function actingFor(principal: Principal, header: string | string[]): Principal {
  const field = `headers.${projectHeader}`;
  const parsed = projectIdSchema.safeParse(header);
  if (!parsed.success) {
    const message = Array.isArray(header) ? 'must be sent once' : (parsed.error.issues[0]?.message ?? 'is invalid');
    throw new EnsembleError('validation_failed', `${field}: ${message}`, { field });
  }
  const projectId = parsed.data;
  if (projectId === principal.projectId) return principal;
  // To a key of one project no other project exists: 404, whether or not that one does.
  if (!principal.admin) throw notFound('project', projectId);
  return Object.freeze({ ...principal, projectId });
}

/**
 * Applies the route's rule from the role matrix: a platform admin key passes everything, other keys
 * need the rule's role — or, on a `self` rule, to be the key the URL names.
 */
function authorize(principal: Principal, rule: RoleRule | undefined, request: FastifyRequest): void {
  if (rule === undefined || accessAllows(rule.access, principal.role, principal.admin)) return;
  if (rule.self === true && (request.params as { id?: string } | undefined)?.id === principal.keyId) return;
  const who = rule.access === 'platform' ? 'a platform admin key' : `the '${rule.access}' role or above`;
  throw new EnsembleError('forbidden', `${request.method} ${rule.url} needs ${who}; this key is '${principal.role}'`, {
    details: { reason: 'role', required: rule.access, role: principal.role },
  });
}

export default fp(authenticationPlugin, { name: 'ensemble-authentication', fastify: '5.x' });
