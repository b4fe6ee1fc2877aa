import type {
  ConsoleUser,
  FailureCounter,
  OidcIdentity,
  OidcSignIn,
  ProjectRole,
  SessionAuthenticator,
} from '@ensemble/core';

/** What sign-in reads about an account (the CLI wires PostgresUserStore). */
export interface AccountDirectory {
  findForLogin(email: string): Promise<{ user: ConsoleUser; passwordHash: string | null } | undefined>;
  recordLogin(id: string): Promise<void>;
  findOrCreateOidcUser(
    identity: OidcIdentity,
    defaults: { projectId: string; role: ProjectRole },
  ): Promise<ConsoleUser | undefined>;
  describe(id: string): Promise<{ user: ConsoleUser; roles: Array<{ projectId: string; role: ProjectRole }> }>;
}

/** Opens and ends console sessions (the CLI wires PostgresSessionStore). */
export interface SessionIssuer extends SessionAuthenticator {
  open(userId: string, sourceIp: string): Promise<{ secret: string; csrfToken: string; expiresAt: Date }>;
  revoke(secret: string): Promise<void>;
}

export interface AuthModuleOptions {
  accounts: AccountDirectory;
  sessions: SessionIssuer;
  /** Failed sign-ins, shared by every instance (PostgreSQL). */
  failures: FailureCounter;
  /** Checks a password against a stored hash in constant time (a decoy when there is none). */
  verifyPassword(password: string, hash: string | null | undefined): Promise<boolean>;
  /** Failed sign-ins allowed per account and per source address in `windowMs` (15 minutes). */
  throttle: { perAccount: number; perAddress: number; windowMs: number };
  /** Marks the cookie `Secure` even over plain HTTP (AUTH_COOKIE_SECURE). */
  cookieSecure: boolean;
  /** OpenID Connect sign-in, when configured; new users get `defaults`' role in its project. */
  oidc?: { signIn: OidcSignIn; redirectUri: string; defaults: { projectId: string; role: ProjectRole } };
}
