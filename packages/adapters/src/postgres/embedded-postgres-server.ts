import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { chmod, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { EnsembleError, type Logger, silentLogger } from '@ensemble/core';
import pg from 'pg';
import { findFreePort, isPortFree } from './free-port.ts';
import { npmPostgresBinDir, postgresMajorVersion } from './postgres-binaries.ts';
import { assertReachableBy, type PostgresOsUser, resolvePostgresOsUser } from './postgres-os-user.ts';
import { isProcessAlive, processCommandLine, processStartTime } from './process-identity.ts';

const run = promisify(execFile);

export interface EmbeddedPostgresOptions {
  /** Holds the cluster (`pgdata/`), its settings file and its log; kept across restarts. */
  dataDir: string;
  /** TCP port on 127.0.0.1. 0 (the default) picks a free port once and keeps it in `dataDir`. */
  port?: number;
  logger?: Logger;
  /** Folder with `initdb` and `postgres`. Defaults to the npm binaries; see `systemPostgresBinDir()`. */
  binDir?: string;
  /** The account PostgreSQL runs as when Ensemble runs as root (created if missing). */
  osUser?: string;
  /** The database created for Ensemble, named in the returned URL. */
  database?: string;
  initTimeoutMs?: number;
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
  /** Extra server settings passed as `-c name=value`. */
  settings?: Record<string, string | number>;
}

export interface RunningEmbeddedPostgres {
  /** `postgres://ensemble:…@127.0.0.1:<port>/<database>`; the role is a superuser. */
  url: string;
  port: number;
  /** The postmaster's PID, the process `stop()` signals. */
  pid: number;
  stop(): Promise<void>;
}

/** What the data folder remembers between runs; holds the password, so it is mode 600. */
interface ServerSettings {
  port: number;
  user: string;
  password: string;
  database: string;
  initialized: boolean;
}

interface Running {
  child: ChildProcess;
  pid: number;
  port: number;
  url: string;
  onExit: () => void;
  /** Set once `stop()` signalled it, so its exit is not reported as a crash. */
  stopping: boolean;
}

const settingsFile = 'ensemble-postgres.json';
const ownerFile = 'ensemble-postgres.owner';
const logFile = 'postgres.log';
const logRotateBytes = 10 * 1024 * 1024;
const superuser = 'ensemble';
/** Data folders started by this process, so a second start of one fails clearly. */
const startedHere = new Set<string>();

/**
 * A real PostgreSQL server that Ensemble runs itself when DATABASE_URL is unset. The postmaster is
 * spawned detached (a terminal's Ctrl-C reaches Ensemble, which drains and then calls `stop()`), is
 * told to stop by its own PID, and is signalled on process exit. A server left behind by a crashed
 * Ensemble is recognised and stopped on the next start; a stale `postmaster.pid` is cleared.
 */
export class EmbeddedPostgresServer {
  readonly dataDir: string;
  readonly #options: EmbeddedPostgresOptions;
  readonly #logger: Logger;
  #running: Running | undefined;
  /** Serialises start and stop, so tests can restart a server without racing themselves. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: EmbeddedPostgresOptions) {
    this.#options = options;
    this.dataDir = resolve(options.dataDir);
    this.#logger = (options.logger ?? silentLogger).child({ component: 'embedded-postgres' });
  }

  get pgdata(): string {
    return join(this.dataDir, 'pgdata');
  }

  get isRunning(): boolean {
    return this.#running !== undefined;
  }

  start(): Promise<RunningEmbeddedPostgres> {
    return this.#enqueue(() => this.#start());
  }

  stop(): Promise<void> {
    return this.#enqueue(() => this.#stop());
  }

  #enqueue<T>(operation: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(operation, operation);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #start(): Promise<RunningEmbeddedPostgres> {
    if (this.#running || startedHere.has(this.dataDir)) {
      throw new EnsembleError('conflict', `the embedded PostgreSQL in ${this.dataDir} is already running`, {
        details: { dataDir: this.dataDir },
      });
    }
    const startedAt = Date.now();
    await mkdir(this.dataDir, { recursive: true, mode: 0o755 });
    this.#claimOwnership();
    startedHere.add(this.dataDir);
    try {
      const binDir = this.#options.binDir ?? npmPostgresBinDir();
      const major = await postgresMajorVersion(binDir);
      const user = await resolvePostgresOsUser(this.#options.osUser ?? 'postgres', this.#logger);
      if (user) {
        assertReachableBy(user, join(binDir, 'postgres'), 'server binary');
        assertReachableBy(user, this.dataDir, 'data folder');
      }
      const settings = await this.#loadSettings();
      if (!settings.initialized) await this.#initialise(binDir, settings, user);
      this.#assertVersion(major);
      await this.#clearLeftovers();
      settings.port = await this.#choosePort(settings.port);
      await this.#saveSettings(settings);
      const running = await this.#spawn(binDir, settings, user);
      this.#running = running;
      await this.#ensureDatabase(settings);
      this.#logger.info(
        { port: running.port, pid: running.pid, version: major, dataDir: this.dataDir, ms: Date.now() - startedAt },
        'embedded PostgreSQL is ready',
      );
      return { url: running.url, port: running.port, pid: running.pid, stop: () => this.stop() };
    } catch (error) {
      if (this.#running) await this.#stop().catch(() => undefined);
      this.#releaseOwnership();
      startedHere.delete(this.dataDir);
      throw error;
    }
  }

  async #stop(): Promise<void> {
    const running = this.#running;
    if (!running) return;
    const timeoutMs = this.#options.stopTimeoutMs ?? 30_000;
    const startedAt = Date.now();
    running.stopping = true;
    // SIGINT is PostgreSQL's fast shutdown: roll back open transactions, checkpoint, exit.
    const stopped = await stopProcess(running.pid, timeoutMs, () => hasExited(running.child));
    process.off('exit', running.onExit);
    this.#running = undefined;
    this.#releaseOwnership();
    startedHere.delete(this.dataDir);
    if (!stopped) throw new EnsembleError('internal_error', `PostgreSQL (pid ${running.pid}) did not stop`);
    this.#logger.info({ pid: running.pid, ms: Date.now() - startedAt }, 'embedded PostgreSQL stopped');
  }

  /**
   * The owner file names the Ensemble process that runs this data folder. Created exclusively, so
   * two processes cannot both start it; a file left by a dead process (or by an earlier life of a
   * container whose PIDs were reused) is taken over.
   */
  #claimOwnership(): void {
    const path = join(this.dataDir, ownerFile);
    const me = JSON.stringify({ pid: process.pid, startTime: processStartTime(process.pid) ?? null });
    for (let tries = 0; tries < 3; tries++) {
      try {
        writeFileSync(path, me, { flag: 'wx', mode: 0o644 });
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const owner = readOwner(path);
      if (owner && ownerIsAlive(owner)) {
        throw new EnsembleError(
          'conflict',
          `the embedded PostgreSQL in ${this.dataDir} is already run by process ${owner.pid}; stop it first or ` +
            'use another ENSEMBLE_HOME',
          { details: { dataDir: this.dataDir, ownerPid: owner.pid } },
        );
      }
      this.#logger.warn({ owner: owner?.pid }, 'taking over the data folder of an Ensemble process that is gone');
      rmSyncSafe(path);
    }
    throw new EnsembleError('conflict', `could not claim ${path}`);
  }

  #releaseOwnership(): void {
    rmSyncSafe(join(this.dataDir, ownerFile));
  }

  async #loadSettings(): Promise<ServerSettings> {
    const path = join(this.dataDir, settingsFile);
    if (existsSync(path)) return JSON.parse(await readFile(path, 'utf8')) as ServerSettings;
    return {
      port: 0,
      user: superuser,
      password: randomBytes(18).toString('hex'),
      database: this.#options.database ?? 'ensemble',
      initialized: false,
    };
  }

  async #saveSettings(settings: ServerSettings): Promise<void> {
    const path = join(this.dataDir, settingsFile);
    await writeFile(path, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
    await chmod(path, 0o600);
  }

  async #initialise(binDir: string, settings: ServerSettings, user: PostgresOsUser | undefined): Promise<void> {
    const startedAt = Date.now();
    // A folder without the `initialized` mark is what an interrupted initdb left: start over.
    await rm(this.pgdata, { recursive: true, force: true });
    await mkdir(this.pgdata, { mode: 0o700 });
    const passwordFile = join(this.dataDir, '.initdb-password');
    await writeFile(passwordFile, `${settings.password}\n`, { mode: 0o600 });
    if (user) {
      await chown(this.pgdata, user.uid, user.gid);
      await chown(passwordFile, user.uid, user.gid);
    }
    try {
      await run(
        join(binDir, 'initdb'),
        [
          `--pgdata=${this.pgdata}`,
          `--username=${settings.user}`,
          `--pwfile=${passwordFile}`,
          '--auth=scram-sha-256',
          '--encoding=UTF8',
          '--no-locale',
          '--no-instructions',
        ],
        { timeout: this.#options.initTimeoutMs ?? 120_000, ...(user ? { uid: user.uid, gid: user.gid } : {}) },
      );
    } catch (cause) {
      const output = cause as { stderr?: string; stdout?: string };
      throw new EnsembleError(
        'internal_error',
        `initdb failed for ${this.pgdata}: ${(output.stderr || output.stdout || String(cause)).trim()}`,
        {
          cause,
        },
      );
    } finally {
      await rm(passwordFile, { force: true });
    }
    settings.initialized = true;
    await this.#saveSettings(settings);
    this.#logger.info({ dataDir: this.dataDir, ms: Date.now() - startedAt }, 'initialised a PostgreSQL cluster');
  }

  #assertVersion(binaryMajor: number): void {
    const dataMajor = Number(readFileSync(join(this.pgdata, 'PG_VERSION'), 'utf8').trim());
    if (dataMajor !== binaryMajor) {
      throw new EnsembleError(
        'config_invalid',
        `the data in ${this.pgdata} was written by PostgreSQL ${dataMajor}, but the server binaries are version ` +
          `${binaryMajor}: use binaries of version ${dataMajor}, or move the folder away (after dumping it) to start fresh`,
        { details: { dataMajor, binaryMajor } },
      );
    }
  }

  /**
   * Deals with a `postmaster.pid` left behind: a server still running from a crashed Ensemble is
   * stopped; a file whose PID now belongs to some other process is removed (PostgreSQL itself
   * would refuse to start). A file naming a dead PID is left to PostgreSQL, which clears it.
   */
  async #clearLeftovers(): Promise<void> {
    const pidFile = join(this.pgdata, 'postmaster.pid');
    if (!existsSync(pidFile)) return;
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    if (!isProcessAlive(pid)) return;
    const commandLine = processCommandLine(pid);
    const isOurs = commandLine === undefined || commandLine.includes(this.pgdata);
    if (!isOurs) {
      this.#logger.warn({ pid }, 'removing a stale postmaster.pid whose PID now belongs to another process');
      unlinkSync(pidFile);
      return;
    }
    this.#logger.warn({ pid }, 'stopping a PostgreSQL left running by an Ensemble process that is gone');
    if (!(await stopProcess(pid, this.#options.stopTimeoutMs ?? 30_000, () => false))) {
      throw new EnsembleError(
        'internal_error',
        `the PostgreSQL left running in ${this.pgdata} (pid ${pid}) did not stop`,
      );
    }
  }

  async #choosePort(remembered: number): Promise<number> {
    const requested = this.#options.port ?? 0;
    if (requested > 0) {
      if (!(await isPortFree(requested))) {
        throw new EnsembleError('config_invalid', `port ${requested} on 127.0.0.1 is in use; choose another`, {
          field: 'database.embeddedPort',
        });
      }
      return requested;
    }
    if (remembered > 0) {
      if (await isPortFree(remembered)) return remembered;
      this.#logger.warn({ port: remembered }, 'the remembered PostgreSQL port is taken; picking another');
    }
    return findFreePort();
  }

  async #spawn(binDir: string, settings: ServerSettings, user: PostgresOsUser | undefined): Promise<Running> {
    const logPath = join(this.dataDir, logFile);
    if (existsSync(logPath) && statSync(logPath).size > logRotateBytes) renameSync(logPath, `${logPath}.1`);
    const logOffset = existsSync(logPath) ? statSync(logPath).size : 0;
    const log = openSync(logPath, 'a', 0o600);
    const extra = Object.entries(this.#options.settings ?? {}).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
    let child: ChildProcess;
    try {
      child = spawn(
        join(binDir, 'postgres'),
        [
          '-D',
          this.pgdata,
          '-p',
          String(settings.port),
          '-c',
          'listen_addresses=127.0.0.1',
          // TCP only: no socket file whose path length or folder permissions could get in the way.
          '-c',
          'unix_socket_directories=',
          '-c',
          'max_connections=200',
          ...extra,
        ],
        {
          detached: true,
          stdio: ['ignore', log, log],
          env: { ...process.env, LC_ALL: 'C' },
          ...(user ? { uid: user.uid, gid: user.gid } : {}),
        },
      );
    } finally {
      closeSync(log);
    }
    child.unref();
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
    const pid = child.pid;
    const tail = () => readTail(logPath, logOffset);
    if (pid === undefined) {
      throw new EnsembleError('internal_error', `could not start ${join(binDir, 'postgres')}: ${await spawnError}`);
    }
    const onExit = () => {
      // Ensemble is exiting without having stopped its database: ask PostgreSQL to shut down.
      try {
        process.kill(pid, 'SIGINT');
      } catch {}
      rmSyncSafe(join(this.dataDir, ownerFile));
    };
    process.on('exit', onExit);
    child.once('exit', (code, signal) => {
      if (this.#running?.pid === pid && !this.#running.stopping) {
        this.#logger.error({ pid, code, signal, log: tail() }, 'the embedded PostgreSQL exited unexpectedly');
        process.off('exit', onExit);
        this.#running = undefined;
        this.#releaseOwnership();
        startedHere.delete(this.dataDir);
      }
    });

    const deadline = Date.now() + (this.#options.startTimeoutMs ?? 60_000);
    while (!isReady(join(this.pgdata, 'postmaster.pid'), pid)) {
      if (hasExited(child)) {
        process.off('exit', onExit);
        throw new EnsembleError(
          'internal_error',
          `PostgreSQL exited while starting (code ${child.exitCode}, signal ${child.signalCode}): ${tail()}`,
        );
      }
      if (Date.now() > deadline) {
        process.off('exit', onExit);
        await stopProcess(pid, 5_000, () => hasExited(child));
        throw new EnsembleError('internal_error', `PostgreSQL was not ready within the start timeout: ${tail()}`);
      }
      await sleep(50);
    }
    const url = `postgres://${settings.user}:${settings.password}@127.0.0.1:${settings.port}/${settings.database}`;
    return { child, pid, port: settings.port, url, onExit, stopping: false };
  }

  async #ensureDatabase(settings: ServerSettings): Promise<void> {
    const client = new pg.Client({
      host: '127.0.0.1',
      port: settings.port,
      user: settings.user,
      password: settings.password,
      database: 'postgres',
      connectionTimeoutMillis: 10_000,
    });
    client.on('error', () => undefined);
    await client.connect();
    try {
      const found = await client.query('select 1 from pg_database where datname = $1', [settings.database]);
      if (found.rowCount === 0) await client.query(`create database ${client.escapeIdentifier(settings.database)}`);
    } finally {
      await client.end();
    }
  }
}

/** Starts the embedded server; the returned handle stops it. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningEmbeddedPostgres> {
  return new EmbeddedPostgresServer(options).start();
}

/** `postmaster.pid` line 8 says `ready` once the server accepts connections (PostgreSQL ≥ 10). */
function isReady(pidFile: string, pid: number): boolean {
  try {
    const lines = readFileSync(pidFile, 'utf8').split('\n');
    return Number(lines[0]) === pid && (lines[7] ?? '').trim() === 'ready';
  } catch {
    return false;
  }
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/**
 * Fast shutdown (SIGINT), then immediate shutdown (SIGQUIT), then SIGKILL, each with a deadline.
 * `exited` reports a child's exit; for a process that is not our child, liveness is polled.
 */
async function stopProcess(pid: number, timeoutMs: number, exited: () => boolean): Promise<boolean> {
  const steps: Array<[NodeJS.Signals, number]> = [
    ['SIGINT', timeoutMs],
    ['SIGQUIT', 5_000],
    ['SIGKILL', 5_000],
  ];
  const gone = () => exited() || !isProcessAlive(pid);
  for (const [signal, waitMs] of steps) {
    if (gone()) return true;
    try {
      process.kill(pid, signal);
    } catch {
      return true;
    }
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      if (gone()) return true;
      await sleep(25);
    }
  }
  return gone();
}

interface Owner {
  pid: number;
  startTime: string | null;
}

function readOwner(path: string): Owner | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Owner;
  } catch {
    return undefined;
  }
}

function ownerIsAlive(owner: Owner): boolean {
  // Our own PID in the file is an earlier life of this container, not us: we would be in `startedHere`.
  if (owner.pid === process.pid || !isProcessAlive(owner.pid)) return false;
  const startTime = processStartTime(owner.pid);
  return owner.startTime === null || startTime === undefined || startTime === owner.startTime;
}

function readTail(path: string, from: number): string {
  try {
    const text = readFileSync(path, 'utf8').slice(from);
    return text.slice(-2_000).trim();
  } catch {
    return '(no log)';
  }
}

function rmSyncSafe(path: string): void {
  try {
    unlinkSync(path);
  } catch {}
}
