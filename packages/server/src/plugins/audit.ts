import { type AuditLog, auditActionOf, isAuditedRoute, redactSecrets } from '@ensemble/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { projectHeader } from './authentication.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set at registration for administrative writes (core audit/audit-entry.ts): what the audit log calls them. */
    audit?: { action: string; resourceType: string; readable: boolean };
  }
  interface FastifyRequest {
    /** The resource as it was before an audited change, read just before the handler ran. */
    auditBefore?: unknown;
  }
}

export interface AuditPluginOptions {
  log: AuditLog;
}

/**
 * Appends every administrative change to the audit log: who (the key and its role), what (action,
 * resource, the state before and after as the API shows it, secrets redacted), when, from where. The
 * routes are found by rule when they are registered (`isAuditedRoute`: writes under `/api` that are
 * not use of the platform), so a new module's routes are audited without a line here. "Before" is the
 * answer of the same URL's `GET` route, when there is one; "after" is the change's own answer.
 */
async function auditPlugin(app: FastifyInstance, { log }: AuditPluginOptions): Promise<void> {
  const gets = new Set<string>();
  const pending: Array<{ url: string; config: { audit?: unknown }; method: string }> = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (methods.includes('GET')) gets.add(route.url);
    const method = String(methods[0]);
    if (!isAuditedRoute(method, route.url)) return;
    const audit = { ...auditActionOf(method, route.url), readable: false };
    route.config = { ...route.config, audit };
    pending.push({ url: route.url, config: route.config as { audit?: unknown }, method });
  });
  // Whether a GET exists at the same URL is known only once every route is registered.
  app.addHook('onReady', async () => {
    for (const route of pending) {
      const audit = route.config.audit as { readable: boolean };
      audit.readable = route.method !== 'POST' && gets.has(route.url);
    }
  });

  app.addHook('preHandler', async (request) => {
    const audit = request.routeOptions.config.audit;
    if (audit === undefined || !audit.readable) return;
    const headers: Record<string, string> = {};
    // The caller's own credentials: its key, or its session cookie (a read needs no CSRF token).
    for (const name of ['authorization', 'cookie', projectHeader]) {
      const value = request.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const before = await app.inject({ method: 'GET', url: request.url, headers, remoteAddress: request.ip });
    if (before.statusCode === 200) request.auditBefore = safeJson(before.body);
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const audit = request.routeOptions.config.audit;
    if (audit === undefined || reply.statusCode >= 400) return payload;
    const after = typeof payload === 'string' ? safeJson(payload) : null;
    try {
      await log.append({
        projectId: request.principal.projectId,
        actorKeyId: request.principal.keyId,
        actorUserId: request.principal.userId ?? null,
        actorRole: request.principal.admin ? 'platform-admin' : request.principal.role,
        sourceIp: request.ip,
        action: audit.action,
        resourceType: audit.resourceType,
        resourceId: resourceIdOf(request, after),
        route: `${request.method} ${request.routeOptions.url}`,
        status: reply.statusCode,
        requestId: request.id,
        before: redactSecrets(request.auditBefore ?? null),
        after: request.method === 'DELETE' && request.auditBefore !== undefined ? null : redactSecrets(after),
      });
    } catch (error) {
      // The change is made already; losing its record is an operator's alarm, not the client's error.
      request.log.error({ err: error, action: audit.action }, 'could not append to the audit log');
    }
    return payload;
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The changed resource's id: the URL's parameters (a model's name segments joined), or the created one's. */
function resourceIdOf(request: FastifyRequest, after: unknown): string | null {
  const params = Object.values((request.params ?? {}) as Record<string, string>).filter((value) => value !== undefined);
  if (params.length > 0) return params.join('/');
  if (after !== null && typeof after === 'object') {
    const created = after as { id?: unknown; name?: unknown };
    if (typeof created.id === 'string') return created.id;
    if (typeof created.name === 'string') return created.name;
  }
  return null;
}

export default fp(auditPlugin, { name: 'ensemble-audit', fastify: '5.x', dependencies: ['ensemble-authentication'] });
