import { EnsembleError, notFound } from '@ensemble/core';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  clearOidcCookie,
  clearSessionCookie,
  cookieOf,
  csrfHeader,
  csrfTokenMatches,
  oidcCookieName,
  sessionCookieOf,
  setOidcCookie,
  setSessionCookie,
} from '../../auth/session-cookie.ts';
import { openAiErrorBodySchema } from '../../errors/openai-error-body.ts';
import type { AuthModuleOptions } from './account-ports.ts';
import { loginBodySchema, sessionSchema, userJson } from './auth-schemas.ts';

const errors = {
  400: openAiErrorBodySchema,
  401: openAiErrorBodySchema,
  403: openAiErrorBodySchema,
  429: openAiErrorBodySchema,
  503: openAiErrorBodySchema,
};
const tags = ['auth'];
const wrongCredentials = 'Wrong email or password';

/**
 * `/api/auth`: console sign-in with a password, sign-out, and who is signed in. These routes take no
 * API key: they read and set the session cookie themselves (`config.authentication: 'none'`).
 * Failed sign-ins are counted per account and per source address in PostgreSQL, so the limit holds
 * across instances; an unknown account costs the same scrypt as a known one.
 */
export function authModule(options: AuthModuleOptions): FastifyPluginAsyncZod {
  const { accounts, sessions, failures, throttle, cookieSecure, oidc } = options;
  return async (app) => {
    app.get(
      '/api/auth/providers',
      {
        config: { authentication: 'none' },
        schema: {
          tags,
          summary: 'How one may sign in to the console: password, and OpenID Connect when configured',
          response: {
            200: z.object({ password: z.boolean(), oidc: z.boolean() }).meta({ id: 'SignInProviders' }),
            ...errors,
          },
        },
      },
      async () => ({ password: true, oidc: oidc !== undefined }),
    );

    app.get(
      '/api/auth/oidc/start',
      {
        config: { authentication: 'none' },
        schema: {
          tags,
          summary: 'Start OpenID Connect sign-in: redirects to the provider (authorization code flow with PKCE)',
          response: {
            302: z.null().meta({ description: "To the provider's authorization URL" }),
            ...errors,
            404: openAiErrorBodySchema,
            502: openAiErrorBodySchema,
          },
        },
      },
      async (request, reply) => {
        if (oidc === undefined) throw notFound('sign-in provider', 'oidc');
        const { url, pending } = await oidc.signIn.start();
        setOidcCookie(request, reply, [pending.state, pending.nonce, pending.codeVerifier].join('.'), cookieSecure);
        reply.header('cache-control', 'no-store');
        return reply.redirect(url, 302);
      },
    );

    app.get(
      '/api/auth/oidc/callback',
      {
        config: { authentication: 'none' },
        schema: {
          tags,
          summary: 'Where the OpenID Connect provider sends the browser back; signs in and redirects to the console',
          querystring: z.looseObject({
            code: z.string().max(4096).optional(),
            state: z.string().max(1024).optional(),
            error: z.string().max(1024).optional(),
          }),
          response: {
            302: z.null().meta({ description: 'To the console, signed in' }),
            ...errors,
            404: openAiErrorBodySchema,
            502: openAiErrorBodySchema,
          },
        },
      },
      async (request, reply) => {
        if (oidc === undefined) throw notFound('sign-in provider', 'oidc');
        const [state, nonce, codeVerifier] = (cookieOf(request, oidcCookieName) ?? '').split('.');
        if (state === undefined || nonce === undefined || codeVerifier === undefined || state === '') {
          throw new EnsembleError('unauthorized', 'This sign-in was not started here or has expired; sign in again', {
            details: { reason: 'oidc_state' },
          });
        }
        if (request.query.error !== undefined) {
          throw new EnsembleError('unauthorized', `The sign-in provider refused: ${request.query.error}`, {
            details: { reason: 'oidc' },
          });
        }
        const callbackUrl = new URL(oidc.redirectUri);
        const query = request.url.indexOf('?');
        callbackUrl.search = query < 0 ? '' : request.url.slice(query);
        const identity = await oidc.signIn.finish(callbackUrl, { state, nonce, codeVerifier });
        const user = await accounts.findOrCreateOidcUser(identity, oidc.defaults);
        if (user === undefined || user.disabledAt !== null) {
          request.log.info(
            { issuer: identity.issuer, reason: user === undefined ? 'unmatched' : 'disabled' },
            'SSO sign-in refused',
          );
          throw new EnsembleError('unauthorized', 'This identity may not sign in here; ask an admin', {
            details: { reason: 'oidc_account' },
          });
        }
        await accounts.recordLogin(user.id);
        const session = await sessions.open(user.id, request.ip);
        setSessionCookie(request, reply, session.secret, session.expiresAt, cookieSecure);
        reply.header('set-cookie', clearOidcCookie());
        request.log.info({ userId: user.id }, 'signed in through OpenID Connect');
        return reply.redirect('/', 302);
      },
    );

    app.post(
      '/api/auth/login',
      {
        config: { authentication: 'none' },
        schema: {
          tags,
          summary: 'Sign in with an email and password; sets the HTTP-only session cookie',
          body: loginBodySchema,
          response: { 200: sessionSchema, ...errors },
        },
      },
      async (request, reply) => {
        const email = request.body.email.toLowerCase();
        const account = ['login-account', email] as const;
        const address = ['login-address', request.ip] as const;
        const [byAccount, byAddress] = await Promise.all([
          failures.peek(...account, throttle.windowMs),
          failures.peek(...address, throttle.windowMs),
        ]);
        const blocked = Math.max(
          byAccount !== undefined && byAccount.failures >= throttle.perAccount ? byAccount.resetAt : 0,
          byAddress !== undefined && byAddress.failures >= throttle.perAddress ? byAddress.resetAt : 0,
        );
        if (blocked > 0) throw tooManyFailures(reply, blocked);

        const found = await accounts.findForLogin(email);
        const matches = await options.verifyPassword(request.body.password, found?.passwordHash);
        if (found === undefined || !matches || found.user.disabledAt !== null) {
          await Promise.all([
            failures.record(...account, throttle.windowMs),
            failures.record(...address, throttle.windowMs),
          ]);
          request.log.info(
            { reason: found === undefined ? 'unknown' : matches ? 'disabled' : 'password' },
            'sign-in refused',
          );
          throw new EnsembleError('unauthorized', wrongCredentials, { details: { reason: 'credentials' } });
        }
        await failures.clear(...account);
        await accounts.recordLogin(found.user.id);
        const session = await sessions.open(found.user.id, request.ip);
        setSessionCookie(request, reply, session.secret, session.expiresAt, cookieSecure);
        request.log.info({ userId: found.user.id }, 'signed in');
        const described = await accounts.describe(found.user.id);
        reply.header('cache-control', 'no-store');
        return { user: userJson(described.user), roles: described.roles, csrfToken: session.csrfToken };
      },
    );

    app.post(
      '/api/auth/logout',
      {
        config: { authentication: 'none' },
        schema: {
          tags,
          summary: 'Sign out: ends the session and clears its cookie (needs the x-ensemble-csrf header)',
          response: { 204: z.null().meta({ description: 'Signed out' }), ...errors },
        },
      },
      async (request, reply) => {
        const secret = sessionCookieOf(request);
        if (secret !== undefined) {
          const answer = await sessions.authenticateSession(secret);
          if ('session' in answer) {
            if (!csrfTokenMatches(request.headers[csrfHeader], answer.session.csrfToken)) {
              throw new EnsembleError('forbidden', `Signing out with a session cookie needs the ${csrfHeader} header`, {
                field: `headers.${csrfHeader}`,
                details: { reason: 'csrf' },
              });
            }
            await sessions.revoke(secret);
            request.log.info({ userId: answer.session.userId }, 'signed out');
          }
        }
        clearSessionCookie(request, reply, cookieSecure);
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/api/auth/me',
      {
        config: { authentication: 'none' },
        schema: {
          tags,
          summary: 'The signed-in console user, its roles per project, and the CSRF token for changes',
          response: { 200: sessionSchema, ...errors },
        },
      },
      async (request, reply) => {
        const secret = sessionCookieOf(request);
        const answer = secret === undefined ? undefined : await sessions.authenticateSession(secret);
        if (answer === undefined || 'failure' in answer) {
          throw new EnsembleError('unauthorized', 'Not signed in', {
            details: { reason: answer === undefined ? 'missing' : `session_${answer.failure}` },
          });
        }
        const described = await accounts.describe(answer.session.userId);
        reply.header('cache-control', 'no-store');
        return { user: userJson(described.user), roles: described.roles, csrfToken: answer.session.csrfToken };
      },
    );
  };
}

function tooManyFailures(reply: FastifyReply, until: number): EnsembleError {
  const seconds = Math.max(1, Math.ceil((until - Date.now()) / 1000));
  reply.header('retry-after', String(seconds));
  return new EnsembleError('rate_limited', `Too many failed sign-ins; retry in ${seconds} s`, {
    details: { reason: 'login_failures', retryAfterSeconds: seconds },
  });
}
