import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

/** One file of the built console, held in memory with its compressed forms. */
export interface ConsoleFile {
  body: Buffer;
  /** Absent when compressing would not save at least a tenth. */
  brotli?: Buffer;
  gzip?: Buffer;
  contentType: string;
  etag: string;
  /** Vite names the files under `assets/` after their content hash: they never change. */
  immutable: boolean;
}

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

const compressible = new Set(['.html', '.js', '.mjs', '.css', '.json', '.svg', '.txt', '.map']);

/**
 * Reads the whole build (a few hundred kB) into memory once, compressed once: serving it is then a map
 * lookup, with no file system access or compression per request.
 */
export async function loadConsoleFiles(root: string): Promise<Map<string, ConsoleFile>> {
  const files = new Map<string, ConsoleFile>();
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const urlPath = `/${relative(root, path).split(sep).join('/')}`;
    const extension = extname(entry.name).toLowerCase();
    const body = await readFile(path);
    const file: ConsoleFile = {
      body,
      contentType: contentTypes[extension] ?? 'application/octet-stream',
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
      immutable: urlPath.startsWith('/assets/'),
    };
    if (compressible.has(extension) && body.length > 1024) {
      const brotli = brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 9 } });
      const gzip = gzipSync(body, { level: 9 });
      if (brotli.length < body.length * 0.9) file.brotli = brotli;
      if (gzip.length < body.length * 0.9) file.gzip = gzip;
    }
    files.set(urlPath, file);
  }
  return files;
}
