/**
 * The peer gateways the benchmark compares against, installed on demand into the ignored
 * `bench/gateway/.peers/` folder — never workspace dependencies, never in the workspace lock:
 *
 * - Portkey gateway (`@portkey-ai/gateway`, npm) with its own package.json and lock in `.peers/`.
 *   Its published build fails every streamed chat completion on Node 24 (and on Node 20 with
 *   @hono/node-server > 1.14.2) with `TypeError: immutable`: it appends `x-portkey-*` headers to the
 *   upstream `fetch` Response, whose headers are immutable (Portkey-AI/gateway#1389, #1550). Pinning
 *   @hono/node-server 1.14.2 does not help on Node 24. We apply the fix proposed upstream in
 *   Portkey-AI/gateway#1551: re-wrap the response in a new `Response` (same status, body stream and
 *   headers) before the headers are changed. Non-streaming responses are untouched by the patch.
 * - LiteLLM proxy (`litellm[proxy]`, PyPI) in a Python venv in `.peers/litellm-venv`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const portkeyVersion = '1.15.2';
export const litellmVersion = '1.108.7';

const portkeyPatchMarker = '/*ensemble-bench: immutable-headers fix, Portkey-AI/gateway#1551*/';

export interface PortkeyInstall {
  entry: string;
  version: string;
  honoNodeServerVersion: string;
  patched: boolean;
}

export interface LitellmInstall {
  bin: string;
  version: string;
  pythonVersion: string;
}

function log(message: string): void {
  process.stderr.write(`[peers] ${message}\n`);
}

function packageVersion(path: string): string {
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
}

/** Installs Portkey into `<peersDir>` unless that version is already there, then patches it (idempotent). */
export function ensurePortkey(peersDir: string): PortkeyInstall {
  mkdirSync(peersDir, { recursive: true });
  const packageDir = join(peersDir, 'node_modules/@portkey-ai/gateway');
  const installed = existsSync(join(packageDir, 'package.json'))
    ? packageVersion(join(packageDir, 'package.json'))
    : '';
  if (installed !== portkeyVersion) {
    log(`installing @portkey-ai/gateway@${portkeyVersion} into ${peersDir}`);
    writeFileSync(
      join(peersDir, 'package.json'),
      `${JSON.stringify({ private: true, dependencies: { '@portkey-ai/gateway': portkeyVersion } }, null, 2)}\n`,
    );
    execFileSync('npm', ['install', '--prefix', peersDir, '--no-audit', '--no-fund', '--loglevel=error'], {
      stdio: ['ignore', 'inherit', 'inherit'],
      timeout: 10 * 60_000,
    });
  }
  const entry = join(packageDir, 'build/start-server.js');
  const source = readFileSync(entry, 'utf8');
  let patched = source.includes(portkeyPatchMarker);
  if (!patched) {
    const caller = 'this.updateHeaders(i,n.cacheStatus,o),{response:i,';
    const method = 'updateHeaders(e,t,a){return e.headers.append(';
    if (source.split(caller).length === 2 && source.split(method).length === 2) {
      const rewrap =
        `updateHeaders(e,t,a){${portkeyPatchMarker}try{e.headers.append("x-portkey-probe","1"),e.headers.delete("x-portkey-probe")}` +
        'catch{e=new Response(e.body,{status:e.status,statusText:e.statusText,headers:new Headers(e.headers)})}' +
        'return e.headers.append(';
      writeFileSync(entry, source.replace(caller, `i=${caller}`).replace(method, rewrap));
      patched = true;
      log('patched Portkey for immutable response headers (Portkey-AI/gateway#1389/#1550, fix of #1551)');
    } else {
      log(
        'Portkey build differs from 1.15.2 as expected; not patched (its streams may fail with TypeError: immutable)',
      );
    }
  }
  return {
    entry,
    version: packageVersion(join(packageDir, 'package.json')),
    honoNodeServerVersion: packageVersion(join(peersDir, 'node_modules/@hono/node-server/package.json')),
    patched,
  };
}

/** Creates `<peersDir>/litellm-venv` with `litellm[proxy]` unless that version is already there. */
export function ensureLitellm(peersDir: string, python = 'python3'): LitellmInstall {
  mkdirSync(peersDir, { recursive: true });
  const venv = join(peersDir, 'litellm-venv');
  const venvPython = join(venv, 'bin/python');
  const installedVersion = (): string => {
    try {
      return execFileSync(venvPython, ['-c', 'import importlib.metadata as m; print(m.version("litellm"))'], {
        stdio: ['ignore', 'pipe', 'ignore'],
      })
        .toString()
        .trim();
    } catch {
      return '';
    }
  };
  if (installedVersion() !== litellmVersion) {
    log(`installing litellm[proxy]==${litellmVersion} into ${venv}`);
    if (!existsSync(venvPython)) execFileSync(python, ['-m', 'venv', venv], { stdio: 'inherit' });
    execFileSync(venvPython, ['-m', 'pip', 'install', '-q', `litellm[proxy]==${litellmVersion}`], {
      stdio: ['ignore', 'inherit', 'inherit'],
      timeout: 20 * 60_000,
    });
  }
  return {
    bin: join(venv, 'bin/litellm'),
    version: installedVersion(),
    pythonVersion: execFileSync(venvPython, ['--version']).toString().trim(),
  };
}
