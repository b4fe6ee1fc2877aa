import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { type ConsoleFile, loadConsoleFiles } from './console-files.ts';

export interface ConsoleModuleOptions {
  /** The console's production build (`packages/console/dist`), with `index.html` at its top. */
  root: string;
}

/**
 * Paths the console never answers, even as the single-page app's fallback: the APIs and the probes keep
 * their own 404s (in their own error shapes).
 */
export const reservedPaths = ['/api', '/v1', '/pinecone', '/docs', '/openapi.json', '/healthz', '/readyz', '/metrics'];

export function isReservedPath(path: string): boolean {
  return reservedPaths.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

const notBuiltPage = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Ensemble</title>
<body style="font-family:system-ui;max-width:40rem;margin:4rem auto;line-height:1.5">
<h1>The console is not built</h1><p>Ensemble's API runs; its web console has no build yet.
Run <code>npm run build -w @ensemble/console</code> (or <code>npm ci</code>, which builds it) and restart.</p>
<p>Meanwhile: <a href="/docs">/docs</a> · <a href="/openapi.json">/openapi.json</a> · <a href="/readyz">/readyz</a></p></body></html>`;

/**
 * The console's Content-Security-Policy: its own scripts, styles, API and workers only — the Vite build
 * has no inline script or style element, and React sets `style` props through the CSSOM, which CSP
 * does not govern. Downloads are `blob:` URLs; charts' images may be `data:`. Nothing may frame it.
 */
export const consoleContentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Serves the web console at `/`: hashed assets for a year (immutable), everything else revalidated
 * (`index.html` names the current assets), brotli or gzip when the browser takes it, and `index.html`
 * for any other GET so the app's own routes (`/models/…`) survive a reload.
 */
export function consoleModule(options: ConsoleModuleOptions): FastifyPluginAsyncZod {
  return async (app) => {
    const built = existsSync(join(options.root, 'index.html'));
    const files = built ? await loadConsoleFiles(options.root) : new Map<string, ConsoleFile>();
    if (!built) app.log.warn({ root: options.root }, 'the console is not built; / explains how to build it');
    const index = files.get('/index.html');

    const serve = (request: FastifyRequest, reply: FastifyReply, file: ConsoleFile) => {
      reply.header('content-type', file.contentType);
      reply.header('etag', file.etag);
      reply.header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
      reply.header('x-content-type-options', 'nosniff');
      if (file.contentType.startsWith('text/html')) {
        reply.header('content-security-policy', consoleContentSecurityPolicy);
        reply.header('x-frame-options', 'DENY');
        reply.header('referrer-policy', 'no-referrer');
      }
      if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
      const accepted = String(request.headers['accept-encoding'] ?? '');
      reply.header('vary', 'accept-encoding');
      if (file.brotli && /\bbr\b/.test(accepted)) return reply.header('content-encoding', 'br').send(file.brotli);
      if (file.gzip && /\bgzip\b/.test(accepted)) return reply.header('content-encoding', 'gzip').send(file.gzip);
      return reply.send(file.body);
    };

    app.get('/*', { schema: { hide: true } }, async (request, reply) => {
      const path = decodedPath(request.url);
      if (path === undefined) return reply.callNotFound();
      if (isReservedPath(path)) return reply.callNotFound();
      if (index === undefined) {
        return reply
          .code(503)
          .header('content-type', 'text/html; charset=utf-8')
          .header('content-security-policy', consoleContentSecurityPolicy)
          .send(notBuiltPage);
      }
      const file = files.get(path);
      if (file !== undefined && path !== '/index.html') return serve(request, reply, file);
      // A missing asset is a 404, not the page: a stale tab asking for old chunks must not get HTML.
      if (path.startsWith('/assets/') || /\.[a-z0-9]+$/i.test(path)) return reply.callNotFound();
      return serve(request, reply, index);
    });
  };
}

function decodedPath(url: string): string | undefined {
  try {
    return decodeURIComponent(url.split('?', 1)[0] ?? '/');
  } catch {
    return undefined;
  }
}
