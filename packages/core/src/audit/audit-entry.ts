import type { Page } from '../ports/project-repository.ts';

/** One administrative change: who did what, when, from where, and the state before and after. */
export interface AuditEntry {
  /** Increasing; the cursor of the list. */
  id: string;
  at: Date;
  projectId: string;
  /** The API key that made the change (never its secret). */
  actorKeyId: string | null;
  /** The console user who made it through a session (`actorKeyId` is null then). */
  actorUserId?: string | null;
  actorRole: string | null;
  /** The client's address (the TCP peer, or X-Forwarded-For's client under TRUST_PROXY). */
  sourceIp: string | null;
  /** `<resource>.<what>`: `keys.create`, `models.update`, `models.aliases.update`, `limits.delete`, … */
  action: string;
  resourceType: string;
  resourceId: string | null;
  /** The HTTP method and route template that made it, e.g. `PATCH /api/models/:name`. */
  route: string;
  status: number;
  requestId: string;
  /** The resource before and after, as the API shows it, secrets redacted; null when it did not exist. */
  before: unknown;
  after: unknown;
}

export type NewAuditEntry = Omit<AuditEntry, 'id' | 'at'>;

export interface AuditQuery {
  projectId: string;
  action?: string;
  resourceType?: string;
  resourceId?: string;
  actorKeyId?: string;
  from?: Date;
  to?: Date;
  limit: number;
  /** An entry id: the page continues with older entries. */
  after?: string;
}

/**
 * The audit log: appended to, never changed (the database refuses UPDATE and DELETE on it), read
 * newest first with filters, always within one project.
 */
export interface AuditLog {
  append(entry: NewAuditEntry): Promise<void>;
  list(query: AuditQuery): Promise<Page<AuditEntry>>;
}

const secretFields = new Set([
  'secret',
  'password',
  'token',
  'apikey',
  'api_key',
  'authorization',
  'masterkey',
  'clientsecret',
  'client_secret',
  'webhooksecret',
]);

/** Values that are secrets whatever field they sit in: Ensemble keys, webhook secrets, common provider keys. */
const secretValue = /^(ens_|whsec_|sk-|sk_live_|xox[abp]-|AKIA)[A-Za-z0-9_-]{8,}/;

/**
 * A copy of `value` with secrets replaced by `[redacted]`: fields named like secrets, values shaped
 * like keys, and passwords in URLs (`https://user:pass@host`).
 */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (depth > 20) return '[too deep]';
  if (typeof value === 'string') {
    if (secretValue.test(value)) return '[redacted]';
    return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, '$1[redacted]@');
  }
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1));
  if (value === null || typeof value !== 'object') return value;
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    copy[key] = secretFields.has(key.toLowerCase()) ? '[redacted]' : redactSecrets(field, depth + 1);
  }
  return copy;
}

/**
 * Which writes are not administrative changes but use of the platform (calling models, running jobs,
 * writing vectors): the audit log leaves them to the usage ledger and the jobs' own records.
 */
const usePatterns = [
  /\/invoke$/,
  /\/health$/,
  /^\/api\/jobs(\/|$)/,
  /^\/api\/runs(\/|$)/,
  /^\/api\/pipelines\/[^/]+(\/[^/]+)*\/run$/,
  /^\/api\/collections\/[^/]+(\/[^/]+)*\/(vectors|vectors\/delete|search|records|query|documents)$/,
  /^\/api\/artifacts$/,
  // Signing in and out: the account's last sign-in and the request log record them.
  /^\/api\/auth\//,
];

/** Whether a route is an administrative change: a write under `/api` that is not use (`usePatterns`). */
export function isAuditedRoute(method: string, url: string): boolean {
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return false;
  if (!url.startsWith('/api/')) return false;
  return !usePatterns.some((pattern) => pattern.test(url));
}

/** `keys.create`, `models.update`, `models.aliases.update`, `credentials.rotate`, … from a route. */
export function auditActionOf(method: string, url: string): { action: string; resourceType: string } {
  const segments = url.split('/').slice(2);
  const resourceType = segments[0] ?? 'api';
  const statics = segments.slice(1).filter((segment) => !segment.startsWith(':') && segment !== '');
  const verb = method === 'POST' ? 'create' : method === 'DELETE' ? 'delete' : 'update';
  const last = statics.at(-1);
  // A POST to a named action (`/rotate`, `/deploy`) is that action, not a creation.
  if (method === 'POST' && last !== undefined && !['versions', 'aliases', 'keys'].includes(last)) {
    return { action: [resourceType, ...statics].join('.'), resourceType };
  }
  return { action: [resourceType, ...statics, verb].join('.'), resourceType };
}
