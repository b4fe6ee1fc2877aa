import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { EnsembleError } from '@ensemble/core';
import { waitFor } from '@ensemble/testkit';
import pg from 'pg';
import { EmbeddedPostgresServer } from './embedded-postgres-server.ts';
import { isProcessAlive } from './process-identity.ts';

const moduleUrl = new URL('./embedded-postgres-server.ts', import.meta.url).href;

/** A separate Node process that starts the server on `dataDir` and prints `ready <pid> <url>`. */
async function startInChild(dataDir: string): Promise<{ child: ChildProcess; output: Promise<string> }> {
  const script = join(dataDir, '..', `child-${Date.now()}.ts`);
  await writeFile(
    script,
    `import { EmbeddedPostgresServer } from ${JSON.stringify(moduleUrl)};
const server = new EmbeddedPostgresServer({ dataDir: ${JSON.stringify(dataDir)} });
try {
  const { pid, url } = await server.start();
  console.log('ready', pid, url);
  setInterval(() => {}, 60_000);
} catch (error) {
  console.log('failed', error.code, error.message);
  process.exit(3);
}
`,
  );
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  const output = new Promise<string>((resolve) => {
    const check = () => {
      if (/ready|failed/.test(text)) resolve(text);
    };
    child.stdout?.on('data', check);
    child.on('exit', () => resolve(text));
  });
  return { child, output };
}

async function query(url: string, text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

describe('embedded PostgreSQL server', { timeout: 240_000 }, () => {
  const folders: string[] = [];
  const servers: EmbeddedPostgresServer[] = [];
  const children: ChildProcess[] = [];
  const freshFolder = async () => {
    const folder = await mkdtemp(join(tmpdir(), 'ensemble-embedded-pg-'));
    // mkdtemp makes a 700 folder, which the `postgres` account (used when tests run as root) cannot enter.
    await chmod(folder, 0o755);
    folders.push(folder);
    return join(folder, 'postgres');
  };
  const server = (dataDir: string) => {
    const created = new EmbeddedPostgresServer({ dataDir });
    servers.push(created);
    return created;
  };

  after(async () => {
    for (const each of servers) await each.stop().catch(() => undefined);
    for (const child of children) child.kill('SIGKILL');
    for (const folder of folders) await rm(folder, { recursive: true, force: true });
  });

  it('initialises once, then keeps its port and its data across restarts', async () => {
    const dataDir = await freshFolder();
    const pg1 = server(dataDir);
    const first = await pg1.start();
    assert.match(first.url, /^postgres:\/\/ensemble:[0-9a-f]+@127\.0\.0\.1:\d+\/ensemble$/);
    await query(first.url, 'create table kept (n int); insert into kept values (42)');
    const settings = JSON.parse(await readFile(join(dataDir, 'ensemble-postgres.json'), 'utf8'));
    assert.equal(settings.port, first.port);
    for (let restart = 0; restart < 3; restart++) {
      await first.stop();
      assert.equal(isProcessAlive(first.pid), false);
      const again = await pg1.start();
      assert.equal(again.port, first.port, 'the port is remembered');
      assert.equal(again.url, first.url);
      assert.deepEqual((await query(again.url, 'select n from kept')).rows, [{ n: 42 }]);
    }
    await pg1.stop();
    await pg1.stop();
    assert.equal(existsSync(join(dataDir, 'ensemble-postgres.owner')), false);
  });

  it('refuses a second start of a running data folder, in this process and from another', async () => {
    const dataDir = await freshFolder();
    const running = server(dataDir);
    await running.start();
    for (const attempt of [() => running.start(), () => server(dataDir).start()]) {
      await assert.rejects(attempt(), (error: unknown) => {
        assert.ok(error instanceof EnsembleError);
        assert.equal(error.code, 'conflict');
        assert.match(error.message, /already run/);
        return true;
      });
    }
    const { child, output } = await startInChild(dataDir);
    children.push(child);
    assert.match(await output, /failed conflict .*already run by process/);
    await running.stop();
  });

  it('takes over after Ensemble crashed and left its server running', async () => {
    const dataDir = await freshFolder();
    const { child, output } = await startInChild(dataDir);
    children.push(child);
    const [, pidText, url] = (await output).trim().split(' ');
    const orphan = Number(pidText);
    await query(url as string, 'create table survived (n int); insert into survived values (7)');
    child.kill('SIGKILL');
    await waitFor('the child to die', () => child.exitCode !== null || child.signalCode !== null);
    assert.equal(isProcessAlive(orphan), true, 'the orphaned PostgreSQL is still running');

    const successor = server(dataDir);
    const running = await successor.start();
    assert.equal(isProcessAlive(orphan), false, 'the orphan was stopped');
    assert.notEqual(running.pid, orphan);
    assert.deepEqual((await query(running.url, 'select n from survived')).rows, [{ n: 7 }]);
    await successor.stop();
  });

  it('starts despite a postmaster.pid naming a dead PID or a PID now used by another program', async () => {
    const dataDir = await freshFolder();
    const pgServer = server(dataDir);
    await pgServer.start();
    await pgServer.stop();
    const pidFile = join(dataDir, 'pgdata', 'postmaster.pid');
    const stale = (pid: number) =>
      writeFile(pidFile, `${pid}\n${join(dataDir, 'pgdata')}\n1700000000\n5432\n\n127.0.0.1\n  1234  5678\nready   \n`);

    const unrelated = spawn('sleep', ['60']);
    children.push(unrelated);
    await stale(unrelated.pid as number);
    const reused = await pgServer.start();
    assert.equal(isProcessAlive(unrelated.pid as number), true, 'the unrelated program was left alone');
    await reused.stop();

    await stale(2 ** 22 + 12_345);
    const afterDead = await pgServer.start();
    await query(afterDead.url, 'select 1');
    await afterDead.stop();
  });

  it('notices when PostgreSQL dies under it, and starts again', async () => {
    const dataDir = await freshFolder();
    const pgServer = server(dataDir);
    const first = await pgServer.start();
    process.kill(first.pid, 'SIGKILL');
    await waitFor('the server object to notice', () => !pgServer.isRunning);
    const second = await waitFor(
      'a restart after the crash',
      async () => {
        try {
          return await pgServer.start();
        } catch {
          // Backends of the killed postmaster take a moment to exit and free shared memory.
          return undefined;
        }
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    await query(second.url, 'select 1');
    await pgServer.stop();
  });
});
