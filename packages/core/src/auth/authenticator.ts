import type { Principal } from './principal.ts';

/** Why a presented key does not authenticate; each gets its own message, all are 401. */
export type AuthenticationFailure = 'unknown' | 'expired' | 'revoked';

export type Authentication = { readonly principal: Principal } | { readonly failure: AuthenticationFailure };

/**
 * Turns a presented API key secret into who is calling. Runs on every `/v1` and `/api` request, so an
 * implementation answers repeat keys from memory (microseconds), never from a database per request.
 * Throws only when it cannot tell (the database is unreachable: 503), never for a wrong key.
 */
export interface Authenticator {
  authenticate(secret: string): Promise<Authentication>;
}

/** The refusals, one frozen object each, so an implementation allocates nothing to say no. */
export const authenticationFailed = Object.freeze({
  unknown: Object.freeze({ failure: 'unknown' } as const),
  expired: Object.freeze({ failure: 'expired' } as const),
  revoked: Object.freeze({ failure: 'revoked' } as const),
}) satisfies Record<AuthenticationFailure, Authentication>;
