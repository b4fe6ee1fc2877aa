/**
 * Processes the gateway benchmark starts: each pinned to one CPU with `taskset -c`, tracked by PID,
 * measured from /proc (CPU time and RSS of the process and its descendants), and stopped by PID —
 * SIGTERM to the process tree, SIGKILL to whatever is left after a grace period. `stopAll` runs from
 * try/finally and from signal handlers; `killAllNow` is the synchronous last resort on `exit`.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { openSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export const clockTicksPerSecond = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

export interface PinnedProcess {
  name: string;
  pid: number;
  child: ChildProcess;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<string>;
  stop(): Promise<void>;
}

export interface PinnedSpawnOptions {
  name: string;
  cpu: number;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Where stdout and stderr go (a file, never an unread pipe), unless `pipeStdout` is set. */
  logFile: string;
  /** Pipe stdout (the caller must read it); stderr still goes to the log file. */
  pipeStdout?: boolean;
}

const running = new Map<number, PinnedProcess>();

/** The PID and its descendants, from /proc/<pid>/task/<tid>/children. */
export function processTree(pid: number): number[] {
  const tree: number[] = [];
  const pending = [pid];
  while (pending.length > 0) {
    const current = pending.pop() as number;
    tree.push(current);
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${current}/task`);
    } catch {
      continue;
    }
    for (const task of tasks) {
      try {
        const children = readFileSync(`/proc/${current}/task/${task}/children`, 'utf8').trim();
        if (children) for (const child of children.split(/\s+/)) pending.push(Number(child));
      } catch {
        // the task ended meanwhile
      }
    }
  }
  return tree;
}

/** utime + stime in seconds of the PID and its descendants (threads included, exited children not). */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const member of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${member}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // ended meanwhile
    }
  }
  return ticks / clockTicksPerSecond;
}

/** Resident set size in bytes of the PID and its descendants. */
export function rssBytes(pid: number): number {
  let total = 0;
  for (const member of processTree(pid)) {
    try {
      const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${member}/status`, 'utf8'));
      if (match) total += Number(match[1]) * 1024;
    } catch {
      // ended meanwhile
    }
  }
  return total;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalEach(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

export function spawnPinned(options: PinnedSpawnOptions): PinnedProcess {
  const log = openSync(options.logFile, 'a');
  const child = spawn('taskset', ['-c', String(options.cpu), options.command, ...options.args], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', options.pipeStdout ? 'pipe' : log, log],
  });
  if (child.pid === undefined) throw new Error(`could not start ${options.name} (${options.command})`);
  const pid = child.pid; // taskset execs the command: same PID
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ?? String(code)));
    child.once('error', (error) => resolve(`error: ${error.message}`));
  });
  const stop = async (): Promise<void> => {
    if (!running.has(pid)) return;
    const tree = processTree(pid);
    signalEach(tree, 'SIGTERM');
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline && tree.some(isAlive)) await sleep(50);
    signalEach(tree.filter(isAlive), 'SIGKILL');
    await Promise.race([exited, sleep(2_000)]);
    running.delete(pid);
  };
  const pinned: PinnedProcess = { name: options.name, pid, child, exited, stop };
  running.set(pid, pinned);
  return pinned;
}

/** Reads the first stdout line of a process started with `pipeStdout` (then keeps draining stdout). */
export function firstLine(pinned: PinnedProcess, timeoutMs: number): Promise<string> {
  const stdout = pinned.child.stdout;
  if (!stdout) return Promise.reject(new Error(`${pinned.name}: stdout is not piped`));
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`${pinned.name} printed nothing in ${timeoutMs} ms`)), timeoutMs);
    const onData = (data: Buffer) => {
      buffered += data.toString('utf8');
      const end = buffered.indexOf('\n');
      if (end < 0) return;
      clearTimeout(timer);
      stdout.off('data', onData);
      stdout.resume();
      resolve(buffered.slice(0, end));
    };
    stdout.on('data', onData);
    void pinned.exited.then((status) => {
      clearTimeout(timer);
      reject(new Error(`${pinned.name} exited (${status}) before it printed its address`));
    });
  });
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running.values()].map((pinned) => pinned.stop()));
}

/** Synchronous SIGKILL of every process still tracked (for process 'exit'). */
export function killAllNow(): void {
  for (const pid of running.keys()) signalEach(processTree(pid), 'SIGKILL');
  running.clear();
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
