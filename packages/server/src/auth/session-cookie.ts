import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** The console's session cookie: HTTP-only, SameSite=Strict, `Secure` over HTTPS. */
export const sessionCookieName = 'ensemble_session';

/** The header a cookie-authenticated write carries its CSRF token in (decision 0033). */
export const csrfHeader = 'x-ensemble-csrf';

/** The session cookie's value, or `undefined` when the request has none. */
export function sessionCookieOf(request: FastifyRequest): string | undefined {
  return cookieOf(request, sessionCookieName);
}

/** Whether the presented token is the session's, compared in constant time. */
export function csrfTokenMatches(presented: string | string[] | undefined, expected: string): boolean {
  if (typeof presented !== 'string') return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Sets the session cookie. `Secure` when the request came over HTTPS (or through a trusted proxy that
 * says so), or always with `secure: true` (AUTH_COOKIE_SECURE); over plain HTTP on a laptop a Secure
 * cookie would never come back.
 */
export function setSessionCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  secret: string,
  expiresAt: Date,
  secure: boolean,
): void {
  const attributes = [
    `${sessionCookieName}=${secret}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${Math.max(0, Math.floor((expiresAt.getTime() - Date.now()) / 1000))}`,
  ];
  if (secure || request.protocol === 'https') attributes.push('Secure');
  reply.header('set-cookie', attributes.join('; '));
}

/** Holds state, nonce and PKCE verifier between the redirect to the provider and its callback. */
export const oidcCookieName = 'ensemble_oidc';
const oidcCookiePath = '/api/auth/oidc';

/**
 * `SameSite=Lax`, not Strict: the provider sends the browser back with a top-level GET from its own
 * site, which a Strict cookie would not accompany. It holds no credential, only the checks of one
 * sign-in, for 10 minutes.
 */
export function setOidcCookie(request: FastifyRequest, reply: FastifyReply, value: string, secure: boolean): void {
  const attributes = [
    `${oidcCookieName}=${value}`,
    `Path=${oidcCookiePath}`,
    'HttpOnly',
    'SameSite=Lax',
    'Max-Age=600',
  ];
  if (secure || request.protocol === 'https') attributes.push('Secure');
  reply.header('set-cookie', attributes.join('; '));
}

export function clearOidcCookie(): string {
  return `${oidcCookieName}=; Path=${oidcCookiePath}; HttpOnly; SameSite=Lax; Max-Age=0`;
}

/** A cookie's value by name, or `undefined`. */
export function cookieOf(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const separator = part.indexOf('=');
    if (separator < 0 || part.slice(0, separator).trim() !== name) continue;
    const value = part.slice(separator + 1).trim();
    return value === '' ? undefined : value;
  }
  return undefined;
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply, secure: boolean): void {
  const attributes = [`${sessionCookieName}=`, 'Path=/', 'HttpOnly', 'SameSite=Strict', 'Max-Age=0'];
  if (secure || request.protocol === 'https') attributes.push('Secure');
  reply.header('set-cookie', attributes.join('; '));
}
