import {
  type AuthenticationFailure,
  type Authenticator,
  accessAllows,
  authenticationFailed,
  defaultProjectId,
  EnsembleError,
  type FailureCounter,
  isPlausibleApiKeySecret,
  notFound,
  type Principal,
  projectIdSchema,
  type RoleRule,
  roleRuleFor,
  type SessionAuthenticator,
  type SessionPrincipal,
} from '@ensemble/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { type ApiKeyScheme, bearerScheme } from '../auth/api-key-scheme.ts';
import { ApiKeySchemes } from '../auth/api-key-schemes.ts';
import { FailedAttempts } from '../auth/failed-attempts.ts';
import { csrfHeader, csrfTokenMatches, sessionCookieOf } from '../auth/session-cookie.ts';
import { sourceAllowed } from '../auth/source-address.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling, from the API key or the session cookie; handlers take the project from here. */
    principal: Principal;
    /** The console session the request came with, when it was authenticated by its cookie. */
    session: SessionPrincipal | undefined;
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
    /**
     * `none`: the route checks no key or session itself (sign-in, sign-out and `me` read the session
     * cookie in their handler); it is left out of the role matrix and documented without security.
     */
    authentication?: 'none';
  }
}

export interface AuthenticationOptions {
  /** Checks presented keys; the CLI wires the PostgreSQL-backed store, module tests an in-memory one. */
  authenticator: Authenticator;
  /** Failed key attempts a source address may make per minute before it is refused (429); 0: no limit. */
  failedAttemptsPerMinute?: number;
  /**
   * Console sessions: a request to `/v1` or `/api` without an `Authorization` header may present the
   * session cookie instead, with the role its user holds in the project (docs/security.md).
   */
  sessions?: SessionAuthenticator;
  /** Failed attempts counted across instances (PostgreSQL); omitted, each instance counts its own. */
  failureCounter?: FailureCounter;
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
  const shared = options.failureCounter;
  /** Counts a failure here and, when shared, across instances: at the limit this instance blocks the address too. */
  const fail = async (request: FastifyRequest) => {
    failures.record(request.ip);
    if (shared === undefined || failures.limit === 0) return;
    try {
      const window = await shared.record('key-address', request.ip, 60_000);
      if (window.failures >= failures.limit) failures.blockUntil(request.ip, window.resetAt);
    } catch (error) {
      // The local count still holds; an outage of the shared one must not turn refusals into 503s.
      request.log.warn({ err: error }, 'could not count a failed attempt across instances');
    }
  };
  const { sessions } = options;
  const schemes = new ApiKeySchemes();
  schemes.register('/v1', bearerScheme);
  schemes.register('/api', bearerScheme);
  app.decorate('requireApiKey', (prefix: string, scheme: ApiKeyScheme) => schemes.register(prefix, scheme));
  app.decorateRequest('principal', null as unknown as Principal);
  app.decorateRequest('session', undefined);

  // The OpenAPI document says which routes need which key, so `/docs` can send one.
  const documented: Record<string, unknown> = {};
  app.decorate('apiKeySecuritySchemes', () => documented);
  app.addHook('onRoute', (route) => {
    if (route.config?.authentication === 'none') return;
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
    const scheme = route.config?.authentication === 'none' ? undefined : schemes.resolve(route.url ?? request.url);
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
    const cookie =
      sessions !== undefined && scheme === bearerScheme && header === undefined ? sessionCookieOf(request) : undefined;
    if (cookie !== undefined && sessions !== undefined) {
      const answer = await sessions.authenticateSession(cookie);
      if ('failure' in answer) {
        await fail(request);
        throw unauthorized(
          reply,
          scheme,
          answer.failure === 'expired'
            ? 'Your session has expired; sign in again'
            : 'Your session is not valid; sign in again',
          `session_${answer.failure}`,
        );
      }
      const { session } = answer;
      // A cross-site page cannot read the token (SameSite=Strict keeps the cookie off its requests anyway).
      if (!safeMethod(request.method) && !csrfTokenMatches(request.headers[csrfHeader], session.csrfToken)) {
        throw new EnsembleError('forbidden', `A change made with a session cookie needs the ${csrfHeader} header`, {
          field: `headers.${csrfHeader}`,
          details: { reason: 'csrf' },
        });
      }
      const principal = sessionActingFor(session, request.headers[projectHeader]);
      authorize(principal, route.config.roleRule, request);
      request.principal = principal;
      request.session = session;
      return;
    }
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
      await fail(request);
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

function safeMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
}

/**
 * The session's principal in the project the header names, else in `default`, else in the first of its
 * projects. A project the user has no role in does not exist for it (404), as for a key.
 */
function sessionActingFor(session: SessionPrincipal, header: string | string[] | undefined): Principal {
  if (header !== undefined) {
    const field = `headers.${projectHeader}`;
    const parsed = projectIdSchema.safeParse(header);
    if (!parsed.success) {
      const message = Array.isArray(header) ? 'must be sent once' : (parsed.error.issues[0]?.message ?? 'is invalid');
      throw new EnsembleError('validation_failed', `${field}: ${message}`, { field });
    }
    const principal = session.principalIn(parsed.data);
    if (principal === undefined) throw notFound('project', parsed.data);
    return principal;
  }
  const principal =
    session.principalIn(defaultProjectId) ?? session.principalIn([...session.roles.keys()].sort()[0] ?? '');
  if (principal === undefined) {
    throw new EnsembleError('forbidden', 'This user has no role in any project yet; ask an admin to add you to one', {
      details: { reason: 'no_project' },
    });
  }
  return principal;
}

/**
 * Applies the route's rule from the role matrix: a platform admin key passes everything, other keys
 * need the rule's role — or, on a `self` rule, to be the key the URL names.
 */
function authorize(principal: Principal, rule: RoleRule | undefined, request: FastifyRequest): void {
  if (rule === undefined || accessAllows(rule.access, principal.role, principal.admin)) return;
  if (rule.self === true && (request.params as { id?: string } | undefined)?.id === principal.keyId) return;
  const who = rule.access === 'platform' ? 'a platform admin key' : `the '${rule.access}' role or above`;
  const caller = principal.userId === undefined ? 'this key' : 'this user';
  throw new EnsembleError('forbidden', `${request.method} ${rule.url} needs ${who}; ${caller} is '${principal.role}'`, {
    details: { reason: 'role', required: rule.access, role: principal.role },
  });
}

export default fp(authenticationPlugin, { name: 'ensemble-authentication', fastify: '5.x' });
