import { z } from 'zod';
import type { Page } from '../ports/project-repository.ts';
import { type ProjectRole, projectRoleSchema } from '../security/project-role.ts';
import type { Principal } from './principal.ts';

/**
 * A console user: an account that is platform-wide (one email, one password or one OpenID Connect
 * subject) and holds a role per project, the same roles keys hold. Never carries its password hash.
 */
export interface ConsoleUser {
  id: string;
  email: string;
  name: string | null;
  /** Owner in every project and the platform routes, like a platform admin key. */
  platformAdmin: boolean;
  /** Whether the account signs in with a password (else only through OpenID Connect). */
  hasPassword: boolean;
  createdAt: Date;
  disabledAt: Date | null;
  lastLoginAt: Date | null;
}

/** A user as one project sees it: the account and its role there. */
export interface ProjectMember extends ConsoleUser {
  projectId: string;
  role: ProjectRole;
}

/** An email, trimmed and lower-cased: one account per address whatever its case. */
export const emailSchema = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email({ message: 'must be an email address' }))
  .transform((email) => email.toLowerCase());

/** A password: long enough to resist guessing once throttled, short enough to hash cheaply. */
export const passwordSchema = z
  .string()
  .min(12, { message: 'must be at least 12 characters' })
  .max(256, { message: 'must be at most 256 characters' });

export const newConsoleUserSchema = z.strictObject({
  email: emailSchema,
  name: z.string().trim().min(1).max(200).optional(),
  /** Omitted: the user signs in only through OpenID Connect. */
  password: passwordSchema.optional(),
  role: projectRoleSchema.default('viewer'),
  platformAdmin: z.boolean().default(false),
});

export type NewConsoleUser = z.input<typeof newConsoleUserSchema>;

/** What a session cookie (or the API calls it makes) resolves to. */
export interface SessionPrincipal {
  readonly userId: string;
  readonly platformAdmin: boolean;
  /** The user's role in each project it belongs to. */
  readonly roles: ReadonlyMap<string, ProjectRole>;
  /** Compared (timing-safe) with the `x-ensemble-csrf` header of every cookie-authenticated write. */
  readonly csrfToken: string;
  /** The principal in `projectId`, or `undefined` when the user has no role there. */
  principalIn(projectId: string): Principal | undefined;
}

export type SessionAuthentication =
  | { readonly session: SessionPrincipal }
  | { readonly failure: 'unknown' | 'expired' };

/** Turns a session cookie's secret into who is calling (a short-lived cache answers repeats). */
export interface SessionAuthenticator {
  authenticateSession(secret: string): Promise<SessionAuthentication>;
}

/** Users and their memberships. Lists and reads are scoped by project: a user elsewhere is not found. */
export interface UserStore {
  /** Creates an account with a role in `projectId`; `conflict` when the email is taken. */
  create(projectId: string, user: z.output<typeof newConsoleUserSchema>): Promise<ProjectMember>;
  list(projectId: string, options: { limit: number; after?: string }): Promise<Page<ProjectMember>>;
  get(projectId: string, id: string): Promise<ProjectMember>;
  setRole(projectId: string, id: string, role: ProjectRole): Promise<ProjectMember>;
  /** Removes the user from the project (its sessions stay, without this project). */
  removeMember(projectId: string, id: string): Promise<ProjectMember>;
  /**
   * Disables the account everywhere and revokes its sessions. Unless `platform` (a platform admin
   * asks), refused (`conflict`) when the account also belongs to another project.
   */
  disable(projectId: string, id: string, platform: boolean): Promise<ProjectMember>;
}
