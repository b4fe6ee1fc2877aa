import { EnsembleError, type Logger, type OidcIdentity, type OidcPendingLogin, type OidcSignIn } from '@ensemble/core';
import * as oidc from 'openid-client';

export interface OpenIdClientSignInOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  logger: Logger;
  /** Deadline of each call to the provider. */
  timeoutMs?: number;
}

const loopback = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * OpenID Connect sign-in through `openid-client` (maintained, certified): discovery on first use (and
 * again after a failure), the authorization code flow with PKCE (S256), state and nonce, the ID token's
 * signature, issuer, audience, expiry and nonce checked by the library; email and name from the ID
 * token or, when it carries none, the userinfo endpoint. A plain-HTTP issuer is accepted on a loopback
 * host only (a provider on the same machine, as in tests).
 */
export class OpenIdClientSignIn implements OidcSignIn {
  readonly #options: OpenIdClientSignInOptions;
  #configuration: Promise<oidc.Configuration> | undefined;

  constructor(options: OpenIdClientSignInOptions) {
    const issuer = new URL(options.issuer);
    if (issuer.protocol === 'http:' && !loopback.has(issuer.hostname)) {
      throw new EnsembleError(
        'config_invalid',
        "OIDC_ISSUER must be an https URL (plain http is accepted on a loopback host only). Fix: use the issuer's https URL.",
        { field: 'OIDC_ISSUER' },
      );
    }
    this.#options = options;
  }

  #discover(): Promise<oidc.Configuration> {
    const { issuer, clientId, clientSecret, timeoutMs = 10_000 } = this.#options;
    const url = new URL(issuer);
    this.#configuration ??= oidc
      .discovery(url, clientId, clientSecret, undefined, {
        timeout: Math.ceil(timeoutMs / 1000),
        ...(url.protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : {}),
      })
      .catch((error: unknown) => {
        this.#configuration = undefined;
        this.#options.logger.error({ err: error, issuer }, 'OpenID Connect discovery failed');
        throw new EnsembleError('upstream_error', 'The sign-in provider cannot be reached; try again later', {
          cause: error,
        });
      });
    return this.#configuration;
  }

  async start(): Promise<{ url: string; pending: OidcPendingLogin }> {
    const configuration = await this.#discover();
    const pending = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      codeVerifier: oidc.randomPKCECodeVerifier(),
    };
    const url = oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: this.#options.redirectUri,
      scope: 'openid email profile',
      response_type: 'code',
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
    });
    return { url: url.href, pending };
  }

  async finish(callbackUrl: URL, pending: OidcPendingLogin): Promise<OidcIdentity> {
    const configuration = await this.#discover();
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(configuration, callbackUrl, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      this.#options.logger.warn({ err: error }, 'OpenID Connect sign-in refused');
      throw new EnsembleError('unauthorized', "The sign-in provider's answer did not check out; sign in again", {
        details: { reason: 'oidc' },
      });
    }
    const claims = tokens.claims();
    if (claims === undefined) throw new EnsembleError('unauthorized', 'The sign-in provider sent no ID token');
    let email = typeof claims.email === 'string' ? claims.email : undefined;
    let emailVerified = claims.email_verified === true;
    let name = typeof claims.name === 'string' ? claims.name : undefined;
    if (email === undefined && configuration.serverMetadata().userinfo_endpoint !== undefined) {
      const info = await oidc.fetchUserInfo(configuration, tokens.access_token, claims.sub);
      email = typeof info.email === 'string' ? info.email : undefined;
      emailVerified = info.email_verified === true;
      name ??= typeof info.name === 'string' ? info.name : undefined;
    }
    return { issuer: claims.iss, subject: claims.sub, email: email?.toLowerCase(), emailVerified, name };
  }
}
