/**
 * Builds the console with Vite into `dist/`, which the server serves at `/`. Run by `npm ci`'s
 * `prepare` step and by `ensemble start` when the build is missing or older than its sources.
 *
 *   node packages/console/scripts/build.ts           build when stale (no-op otherwise)
 *   node packages/console/scripts/build.ts --force   build anyway
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const consoleRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The production build the server serves. */
export const consoleDist = join(consoleRoot, 'dist');

function newestSourceMtime(): number {
  let newest = 0;
  const visit = (path: string) => {
    const stat = statSync(path);
    if (stat.isDirectory()) {
      for (const name of readdirSync(path)) visit(join(path, name));
    } else if (!path.endsWith('.test.ts')) {
      newest = Math.max(newest, stat.mtimeMs);
    }
  };
  for (const name of ['src', 'public', 'index.html', 'vite.config.ts']) {
    const path = join(consoleRoot, name);
    if (existsSync(path)) visit(path);
  }
  return newest;
}

/** True when there is no build or a source file changed after it. */
export function consoleBuildIsStale(): boolean {
  const index = join(consoleDist, 'index.html');
  if (!existsSync(index)) return true;
  if (!existsSync(join(consoleRoot, 'src'))) return false;
  return newestSourceMtime() > statSync(index).mtimeMs;
}

/** Where Vite's command is, or undefined when dev dependencies are not installed (a production image). */
function viteBin(): string | undefined {
  try {
    const require = createRequire(join(consoleRoot, 'package.json'));
    return join(dirname(require.resolve('vite/package.json')), 'bin', 'vite.js');
  } catch {
    return undefined;
  }
}

export interface BuildOutcome {
  status: 'built' | 'fresh' | 'unavailable';
  durationMs: number;
}

/** Builds when stale (or `force`), with a deadline; resolves 'unavailable' when Vite is not installed. */
export async function buildConsole({ force = false, timeoutMs = 180_000, quiet = false } = {}): Promise<BuildOutcome> {
  const started = Date.now();
  if (!force && !consoleBuildIsStale()) return { status: 'fresh', durationMs: 0 };
  const vite = viteBin();
  if (vite === undefined) return { status: 'unavailable', durationMs: 0 };
  const child = spawn(process.execPath, [vite, 'build', '--logLevel', quiet ? 'error' : 'info'], {
    cwd: consoleRoot,
    stdio: quiet ? ['ignore', 'ignore', 'pipe'] : 'inherit',
  });
  let errors = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    errors += chunk;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`vite build of the console failed (exit ${code}):\n${errors}`);
  return { status: 'built', durationMs: Date.now() - started };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outcome = await buildConsole({ force: process.argv.includes('--force') });
  if (outcome.status === 'unavailable') {
    process.stderr.write('console: Vite is not installed (dev dependencies omitted); the console is not built\n');
  } else if (outcome.status === 'fresh') {
    process.stderr.write('console: the build is up to date\n');
  } else {
    process.stderr.write(`console: built in ${outcome.durationMs} ms\n`);
  }
}
