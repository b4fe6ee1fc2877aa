import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/ensemble.js', import.meta.url));

/** The bootstrap admin key every spawned Ensemble gets, unless a test sets ENSEMBLE_ADMIN_KEY itself. */
export const testAdminKey = 'ens_testAdminKey0123456789abcdefghijklmnopqrstu';

export interface EnsembleProcess {
  child: ChildProcess;
  /** `http://127.0.0.1:<port>` once the server listens. */
  url: string;
  /** The bootstrap admin key it was started with (`undefined` when the test unset it). */
  adminKey: string | undefined;
  /** `{ authorization: 'Bearer <adminKey>' }`, to spread into a request's headers. */
  auth: Record<string, string>;
  /** Every log line printed so far (JSON lines from pino, plus anything on stderr). */
  output: () => string;
  /** Resolves with the exit code once the process ended and its output is read. */
  exited: Promise<number | null>;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs `ensemble <args>` the way a user does, and waits for it to listen (for `start`). */
export async function spawnEnsemble(
  args: string[],
  env: Record<string, string | undefined>,
  { waitForListening = true, timeoutMs = 60_000 } = {},
): Promise<EnsembleProcess> {
  const fullEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LOG_LEVEL: 'info',
    PORT: '0',
    // Built-in models stay off unless a test asks for them: each fresh home would fetch their weights.
    ENSEMBLE_BUILT_IN_MODELS: 'off',
    ENSEMBLE_ADMIN_KEY: testAdminKey,
    // Tests run their fake model servers and webhook receivers on loopback; the SSRF guard refuses
    // internal addresses unless allowed (security tests unset this to attack the guard).
    OUTBOUND_ALLOWED_NETWORKS: '127.0.0.0/8,::1/128',
    ...env,
  };
  const adminKey = fullEnv.ENSEMBLE_ADMIN_KEY;
  const child = spawn(process.execPath, [bin, ...args], {
    // Node leaves out variables whose value is undefined, so a test can unset a default.
    env: fullEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  // 'close' fires after the output streams end, so nothing printed is missed.
  const exited = once(child, 'close').then(([code]) => code as number | null);

  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };

  let url = '';
  if (waitForListening) {
    const deadline = Date.now() + timeoutMs;
    while (!url) {
      const match =
        /"msg":"ensemble listening","url":"(http:\/\/[^"]+)"|"url":"(http:\/\/[^"]+)"[^\n]*"msg":"ensemble listening"/.exec(
          output,
        );
      if (match) url = (match[1] ?? match[2]) as string;
      else if (child.exitCode !== null)
        throw new Error(`ensemble exited with ${child.exitCode} before listening:\n${output}`);
      else if (Date.now() > deadline) {
        await stop('SIGKILL');
        throw new Error(`ensemble did not listen within ${timeoutMs} ms:\n${output}`);
      } else await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const auth: Record<string, string> = adminKey === undefined ? {} : { authorization: `Bearer ${adminKey}` };
  return { child, url, adminKey, auth, output: () => output, exited, stop };
}

/** Runs a command to completion and returns its exit code and output. */
export async function runEnsemble(
  args: string[],
  env: Record<string, string | undefined>,
  timeoutMs = 60_000,
): Promise<{ code: number | null; output: string }> {
  const running = await spawnEnsemble(args, env, { waitForListening: false });
  const timer = setTimeout(() => running.child.kill('SIGKILL'), timeoutMs);
  const code = await running.exited;
  clearTimeout(timer);
  return { code, output: running.output() };
}
