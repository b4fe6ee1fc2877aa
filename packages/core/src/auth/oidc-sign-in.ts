/** What a sign-in redirect needs remembered until the provider sends the browser back. */
export interface OidcPendingLogin {
  state: string;
  nonce: string;
  /** The PKCE code verifier (its S256 challenge went in the authorization URL). */
  codeVerifier: string;
}

/** Who the provider says signed in, from the checked ID token (and the userinfo endpoint). */
export interface OidcIdentity {
  issuer: string;
  subject: string;
  email: string | undefined;
  emailVerified: boolean;
  name: string | undefined;
}

/** OpenID Connect sign-in, authorization code flow with PKCE, state and nonce checked. */
export interface OidcSignIn {
  /** The provider's authorization URL to send the browser to, and what to keep for the callback. */
  start(): Promise<{ url: string; pending: OidcPendingLogin }>;
  /**
   * Exchanges the code in `callbackUrl` (the redirect URI with the provider's query) after checking
   * state, nonce and PKCE against `pending`; throws `unauthorized` when any check fails.
   */
  finish(callbackUrl: URL, pending: OidcPendingLogin): Promise<OidcIdentity>;
}
