import { type ProjectRole, roleIncludes } from './project-role.ts';

/**
 * Who may call a route: a project role (and every stronger one), or `platform` — only platform admin
 * keys (`admin: true`), which act on every project (creating projects, rotating every credential).
 */
export type RouteAccess = ProjectRole | 'platform';

export interface RoleRule {
  method: string;
  /** The route's template as registered (`/api/keys/:id`). */
  url: string;
  access: RouteAccess;
  /**
   * A key below `access` may still call the route on itself (`:id` equal to its own key id): any key
   * may see and revoke itself.
   */
  self?: true;
  why: string;
}

/**
 * The role matrix, declared once: every route not listed here follows the default by method — reads
 * (`GET`, `HEAD`) need `viewer`, everything else `developer` (use and build). The exceptions are the
 * routes that manage access (keys, credentials, secrets, limits, the audit log) and those that span
 * projects. Enforced by the server's authentication before a body is read.
 */
export const roleRules: readonly RoleRule[] = [
  { method: 'GET', url: '/api/projects', access: 'platform', why: 'lists every project' },
  { method: 'POST', url: '/api/projects', access: 'platform', why: 'creates a tenant' },
  { method: 'POST', url: '/api/credentials/rotate', access: 'platform', why: 're-encrypts every project' },
  { method: 'POST', url: '/api/keys', access: 'admin', why: 'grants access' },
  { method: 'GET', url: '/api/keys', access: 'admin', why: 'shows who holds access' },
  { method: 'GET', url: '/api/keys/:id', access: 'admin', self: true, why: 'a key may see itself' },
  { method: 'DELETE', url: '/api/keys/:id', access: 'admin', self: true, why: 'a key may revoke itself' },
  { method: 'POST', url: '/api/credentials', access: 'admin', why: 'stores provider secrets' },
  { method: 'DELETE', url: '/api/credentials/:name', access: 'admin', why: 'removes provider secrets' },
  { method: 'GET', url: '/api/jobs/webhook-secret', access: 'admin', why: 'a signing secret' },
  { method: 'GET', url: '/api/audit', access: 'admin', why: 'who changed what' },
  { method: 'GET', url: '/api/limits', access: 'admin', why: 'rate limits and budgets' },
  { method: 'PUT', url: '/api/limits', access: 'admin', why: 'rate limits and budgets' },
  { method: 'DELETE', url: '/api/limits', access: 'admin', why: 'rate limits and budgets' },
  { method: 'POST', url: '/api/users', access: 'admin', why: 'grants console access' },
  { method: 'GET', url: '/api/users', access: 'admin', why: 'shows who holds access' },
  { method: 'GET', url: '/api/users/:id', access: 'admin', why: 'shows who holds access' },
  { method: 'PUT', url: '/api/users/:id/role', access: 'admin', why: 'grants console access' },
  { method: 'DELETE', url: '/api/users/:id', access: 'admin', why: 'removes console access' },
  { method: 'POST', url: '/api/users/:id/disable', access: 'admin', why: 'ends console access' },
  // Reads sent as POST (a query has a body): viewers may make them.
  { method: 'POST', url: '/api/collections/:name/search', access: 'viewer', why: 'a read with a body' },
  { method: 'POST', url: '/pinecone/data/:index/query', access: 'viewer', why: 'a read with a body' },
  { method: 'POST', url: '/pinecone/data/:index/describe_index_stats', access: 'viewer', why: 'a read with a body' },
  { method: 'PUT', url: '/api/limits/keys/:id', access: 'admin', why: 'rate limits and budgets' },
  { method: 'DELETE', url: '/api/limits/keys/:id', access: 'admin', why: 'rate limits and budgets' },
];

const byRoute = new Map(roleRules.map((rule) => [`${rule.method} ${rule.url}`, rule]));

/** The rule for a route: its entry in `roleRules`, or the default by method. */
export function roleRuleFor(method: string, url: string): RoleRule {
  const declared = byRoute.get(`${method} ${url}`);
  if (declared !== undefined) return declared;
  const read = method === 'GET' || method === 'HEAD';
  return { method, url, access: read ? 'viewer' : 'developer', why: read ? 'reads' : 'uses or builds' };
}

/** Whether a caller with `role` (and `platform` when it holds a platform admin key) passes `access`. */
export function accessAllows(access: RouteAccess, role: ProjectRole, platform: boolean): boolean {
  if (platform) return true;
  return access !== 'platform' && roleIncludes(role, access);
}
