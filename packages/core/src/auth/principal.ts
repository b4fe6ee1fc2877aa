import { EnsembleError } from '../errors/index.ts';
import type { ProjectRole } from '../security/project-role.ts';

/**
 * Who is calling: set on every request by the server's authentication from the API key. Every
 * `/v1` and `/api` handler reads the project from here, never from a constant.
 */
export interface Principal {
  /** The API key's id (not the secret); `null` only on the open routes (`/healthz`, `/docs`, …), which read none of this. */
  keyId: string | null;
  /** The console user signed in through a session cookie (`keyId` is null then). */
  userId?: string;
  projectId: string;
  /**
   * Platform admin keys act on every project (an `x-ensemble-project` header picks one) and hold the
   * `owner` role in each; other keys act within their project, with their role.
   */
  admin: boolean;
  /** What the key may do within its project (role-matrix.ts says which routes need which). */
  role: ProjectRole;
  /** Source address ranges (CIDR) the key may be used from; `undefined` means anywhere. */
  allowedIps?: readonly string[];
  /** Model and route names this key may call; `undefined` means all of its project's. */
  allowedModels?: readonly string[];
  /** Free-form labels from the key, usable by conditional routes (`key.tags`). */
  tags: readonly string[];
}

/**
 * Refuses (403) a call to a model or route the key is not allowed to use. `name` is what the caller
 * asked for; a listed name allows its versions and aliases too (`m` allows `m@2` and `m:prod`), while
 * listing `m:prod` allows that alias only. Names are compared exactly otherwise. `field` is where the
 * request named it.
 */
export function assertModelAllowed(principal: Principal, name: string, field = 'body.model'): void {
  const allowed = principal.allowedModels;
  if (allowed === undefined || allowed.includes(name)) return;
  const separator = Math.max(name.lastIndexOf('@'), name.lastIndexOf(':'));
  if (separator > 0 && allowed.includes(name.slice(0, separator))) return;
  throw new EnsembleError('forbidden', `this API key may not call '${name}'`, { field });
}

/** Refuses (403) what only an admin key may do, naming it: `only an admin key may create API keys`. */
export function assertAdmin(principal: Principal, action: string): void {
  if (principal.admin) return;
  throw new EnsembleError('forbidden', `only an admin key may ${action}`);
}
