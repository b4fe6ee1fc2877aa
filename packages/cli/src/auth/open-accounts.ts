import { verifyPassword } from '@ensemble/adapters/auth';
import { OpenIdClientSignIn } from '@ensemble/adapters/oidc';
import {
  type Database,
  PostgresFailureCounter,
  PostgresSessionStore,
  PostgresUserStore,
} from '@ensemble/adapters/postgres';
import { type EnsembleConfig, EnsembleError, type Logger } from '@ensemble/core';
import { type AuthModuleOptions, authModule, type EnsembleModule, usersModule } from '@ensemble/server';

export interface Accounts {
  users: PostgresUserStore;
  sessions: PostgresSessionStore;
  failures: PostgresFailureCounter;
  /** `/api/auth` (sign-in, sign-out, me) and `/api/users`. */
  modules: EnsembleModule[];
}

/** OpenID Connect sign-in when OIDC_ISSUER is set: then the client id, secret and redirect URI must be too. */
function oidcOption(config: EnsembleConfig, logger: Logger): Pick<AuthModuleOptions, 'oidc'> {
  const { oidcIssuer, oidcClientId, oidcClientSecret, oidcRedirectUri } = config.auth;
  if (oidcIssuer === undefined) return {};
  const missing = (
    [
      ['OIDC_CLIENT_ID', oidcClientId],
      ['OIDC_CLIENT_SECRET', oidcClientSecret],
      ['OIDC_REDIRECT_URI', oidcRedirectUri],
    ] as const
  ).find(([, value]) => value === undefined);
  if (
    missing !== undefined ||
    oidcClientId === undefined ||
    oidcClientSecret === undefined ||
    oidcRedirectUri === undefined
  ) {
    const name = missing?.[0] ?? 'OIDC_CLIENT_ID';
    throw new EnsembleError(
      'config_invalid',
      `OIDC_ISSUER is set but ${name} is not. Fix: set ${name}, or unset OIDC_ISSUER.`,
      {
        field: name,
      },
    );
  }
  return {
    oidc: {
      signIn: new OpenIdClientSignIn({
        issuer: oidcIssuer,
        clientId: oidcClientId,
        clientSecret: oidcClientSecret,
        redirectUri: oidcRedirectUri,
        logger,
      }),
      redirectUri: oidcRedirectUri,
      defaults: { projectId: config.auth.oidcDefaultProject, role: config.auth.oidcDefaultRole },
    },
  };
}

/** Failed sign-ins are counted in windows of this length (docs/security.md). */
export const loginWindowMs = 15 * 60_000;

/**
 * Console accounts: users, sessions and the shared failure counts, plus the first user from
 * ENSEMBLE_ADMIN_EMAIL / ENSEMBLE_ADMIN_PASSWORD when both are set (neither: no user is made, and
 * `npm start` works as before with the admin key).
 */
export async function openAccounts({
  config,
  database,
  logger,
}: {
  config: EnsembleConfig;
  database: Database;
  logger: Logger;
}): Promise<Accounts> {
  const { adminEmail, adminPassword } = config.auth;
  if ((adminEmail === undefined) !== (adminPassword === undefined)) {
    const missing = adminEmail === undefined ? 'ENSEMBLE_ADMIN_EMAIL' : 'ENSEMBLE_ADMIN_PASSWORD';
    throw new EnsembleError(
      'config_invalid',
      `${missing} is not set. Fix: set ENSEMBLE_ADMIN_EMAIL and ENSEMBLE_ADMIN_PASSWORD together, or neither.`,
      { field: missing },
    );
  }
  const users = new PostgresUserStore(database.db);
  if (adminEmail !== undefined && adminPassword !== undefined) {
    const outcome = await users.ensureBootstrapUser(adminEmail, adminPassword);
    if (outcome.kind === 'created')
      logger.info({ userId: outcome.user.id }, 'created the first console user (ENSEMBLE_ADMIN_EMAIL)');
    else
      logger.info(
        { userId: outcome.user.id },
        'the console user ENSEMBLE_ADMIN_EMAIL exists; its password is left as it is',
      );
  }
  const sessions = new PostgresSessionStore(database.db, {
    ttlMs: config.auth.sessionTtlMs,
    cacheTtlMs: config.auth.keyCacheTtlMs,
  });
  const failures = new PostgresFailureCounter(database.db);
  const options: AuthModuleOptions = {
    accounts: users,
    sessions,
    failures,
    verifyPassword,
    throttle: {
      perAccount: config.auth.loginFailuresPerAccount,
      perAddress: config.auth.loginFailuresPerAddress,
      windowMs: loginWindowMs,
    },
    cookieSecure: config.auth.cookieSecure,
    ...oidcOption(config, logger),
  };
  return { users, sessions, failures, modules: [authModule(options), usersModule(users)] };
}
