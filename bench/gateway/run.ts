/**
 * Gateway benchmark: every target in `targets.ts` measured in one run on this machine.
 *
 *   node bench/gateway/run.ts [--quick] [--duration 10] [--warmup 2] [--connections 1,10,50]
 *                             [--stream-requests 300] [--targets direct,bare,portkey,litellm]
 *                             [--gateway-cpu 1] [--load-cpu 0]
 *
 * The fake upstream, wrk (-t1) and this process (the stream client) run on the load CPU; each
 * gateway, one at a time, on the gateway CPU (`taskset -c`). Per target: a warm-up, then for each
 * connection count a bounded `wrk` run (RPS, p50/p99, the gateway's CPU per request from
 * /proc/<pid>/stat, RSS), then N sequential streamed completions (time to first and last chunk).
 * Peers are installed on first use into bench/gateway/.peers/ (ignored).
 *
 * Writes the Markdown table to stdout and bench/results/gateway-<date>.md plus raw JSON beside it;
 * `--quick` (a smoke run) writes only under bench/results/raw/. Logs, wrk scripts and generated
 * configs go to bench/results/raw/gateway-<timestamp>/. Every process started is stopped by PID.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { cpuSeconds, firstLine, freePort, killAllNow, rssBytes, spawnPinned, stopAll } from './pinned-processes.ts';
import { type LoadPoint, type RunResult, renderMarkdown, type TargetResult } from './report.ts';
import { timeStreams } from './stream-timing.ts';
import { bareProxy, litellm, portkey, type Target, type TargetContext, targets, waitUntilServing } from './targets.ts';
import { runWrk, writeWrkScript } from './wrk-load.ts';

const root = join(import.meta.dirname, '../..');
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    'stream-requests': { type: 'string' },
    targets: { type: 'string' },
    'gateway-cpu': { type: 'string', default: '1' },
    'load-cpu': { type: 'string', default: '0' },
  },
});
const quick = args.quick === true;
const durationS = Number(args.duration ?? (quick ? 2 : 10));
const warmupS = Number(args.warmup ?? (quick ? 1 : 2));
const connections = (args.connections ?? (quick ? '1,50' : '1,10,50')).split(',').map(Number);
const streamRequests = Number(args['stream-requests'] ?? (quick ? 30 : 300));
const gatewayCpu = Number(args['gateway-cpu']);
const loadCpu = Number(args['load-cpu']);
const shortNames: Record<string, Target> = {};
for (const target of targets) shortNames[target.name.split(' ')[0]?.toLowerCase() ?? target.name] = target;
const selected = args.targets
  ? args.targets.split(',').map((name) => {
      const target = shortNames[name.toLowerCase()] ?? targets.find((t) => t.name === name);
      if (!target) throw new Error(`unknown target ${name}; known: ${Object.keys(shortNames).join(', ')}`);
      return target;
    })
  : targets;

const startedAt = new Date();
const stamp = startedAt.toISOString().replace(/[:.]/g, '-').slice(0, 19);
const resultsDir = join(root, 'bench/results');
const workDir = join(resultsDir, 'raw', `gateway-${stamp}`);
mkdirSync(workDir, { recursive: true });
const log = (message: string) => process.stderr.write(`[gateway-bench] ${message}\n`);

const chatRequest = (model: string, stream: boolean) =>
  JSON.stringify({
    model,
    messages: [
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', content: 'Say hello and offer help, in one short sentence.' },
    ],
    max_tokens: 64,
    temperature: 0.2,
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  });

function machine(): RunResult['machine'] {
  const cpuModel =
    /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? '?';
  let wrk = 'wrk';
  try {
    execFileSync('wrk', ['-v'], { stdio: 'pipe' });
  } catch (error) {
    // `wrk -v` prints its version and exits 1
    const output = String((error as { stdout?: Buffer }).stdout ?? '');
    wrk = output.split('\n')[0]?.replace(/ Copyright.*$/, '') || 'wrk';
  }
  return {
    nproc: cpus().length, // not `nproc`: this process is pinned to one CPU
    cpuModel,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    wrk,
  };
}

async function measure(target: Target, context: TargetContext, upstreamUrl: string): Promise<TargetResult> {
  const result: TargetResult = {
    name: target.name,
    isDirect: target.isDirect === true,
    versions: {},
    notes: [],
    loadAverageAtStart: loadavg(),
    load: [],
  };
  const slug = target.name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  try {
    log(`${target.name}: starting`);
    const running = await target.start(upstreamUrl, context);
    result.versions = running.versions ?? {};
    result.notes = running.notes ?? [];
    const headers = { ...target.headers, ...running.headers };
    const body = chatRequest(target.model, false);
    try {
      await waitUntilServing({ url: running.url, headers, body, pid: running.pid, timeoutMs: 120_000 });
      const script = join(workDir, `${slug}.lua`);
      writeWrkScript(script, body, headers);
      const url = `${running.url}/v1/chat/completions`;
      log(`${target.name}: warm-up ${warmupS} s`);
      await runWrk({
        url,
        scriptPath: script,
        connections: 10,
        durationS: warmupS,
        cpu: loadCpu,
        logFile: join(workDir, `${slug}-warmup.wrk.txt`),
      });
      for (const count of connections) {
        const cpuBefore = cpuSeconds(running.pid);
        const load = await runWrk({
          url,
          scriptPath: script,
          connections: count,
          durationS,
          cpu: loadCpu,
          logFile: join(workDir, `${slug}-c${count}.wrk.txt`),
        });
        const cpuAfter = cpuSeconds(running.pid);
        const point: LoadPoint = {
          ...load,
          cpuUsPerRequest: load.requests > 0 ? ((cpuAfter - cpuBefore) * 1e6) / load.requests : Number.NaN,
          rssMb: rssBytes(running.pid) / 2 ** 20,
        };
        result.load.push(point);
        if (point.errors > 0)
          result.notes.push(`${point.errors} errors of ${point.requests} requests at ${count} connections`);
        log(
          `${target.name} c=${count}: ${point.rps.toFixed(0)} RPS, p50 ${point.p50Ms.toFixed(2)} ms, p99 ${point.p99Ms.toFixed(2)} ms, ` +
            `${point.cpuUsPerRequest.toFixed(0)} µs CPU/req, ${point.rssMb.toFixed(0)} MB, ${point.errors} errors`,
        );
      }
      log(`${target.name}: ${streamRequests} streams`);
      result.stream = await timeStreams({
        url: running.url,
        headers,
        body: chatRequest(target.model, true),
        requests: streamRequests,
        warmup: Math.min(20, streamRequests),
        deadlineMs: 120_000,
      });
      log(
        `${target.name} streams: first chunk p50 ${result.stream.firstChunk.p50Ms.toFixed(2)} ms, ` +
          `last p50 ${result.stream.lastChunk.p50Ms.toFixed(2)} ms, ${result.stream.failures} failed`,
      );
    } finally {
      await running.stop();
    }
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error);
    log(`${target.name}: FAILED: ${result.error}`);
  }
  return result;
}

async function main(): Promise<void> {
  execFileSync('taskset', ['-a', '-p', '-c', String(loadCpu), String(process.pid)], { stdio: 'ignore' });
  const loadStart = loadavg();
  log(`load average ${loadStart.map((v) => v.toFixed(2)).join(' ')}; logs in ${relative(root, workDir)}`);
  const upstream = spawnPinned({
    name: 'fake-openai-upstream',
    cpu: loadCpu,
    command: process.execPath,
    args: [join(root, 'bench/gateway/fake-openai-upstream.ts')],
    logFile: join(workDir, 'fake-openai-upstream.log'),
    pipeStdout: true,
  });
  const { url: upstreamUrl } = JSON.parse(await firstLine(upstream, 15_000)) as { url: string };
  log(`fake upstream at ${upstreamUrl} (pid ${upstream.pid})`);
  const context: TargetContext = {
    gatewayCpu,
    peersDir: join(root, 'bench/gateway/.peers'),
    workDir,
    root,
    upstreamPid: upstream.pid,
    spawnGateway: (options) =>
      spawnPinned({
        ...options,
        cpu: gatewayCpu,
        logFile: join(workDir, `${options.name}.log`),
        pipeStdout: options.name === 'bare-proxy',
      }),
    freePort,
  };
  const results: TargetResult[] = [];
  for (const target of selected) {
    results.push(await measure(target, context, upstreamUrl));
    await sleep(1_000);
  }
  const finishedAt = new Date();
  const command = ['node bench/gateway/run.ts', ...process.argv.slice(2)].join(' ');
  const run: RunResult = {
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    command,
    machine: machine(),
    settings: { durationS, warmupS, connections, streamRequests, gatewayCpu, loadCpu },
    loadAverage: { start: loadStart, end: loadavg() },
    targets: results,
  };
  const markdown = renderMarkdown(run, { floor: bareProxy.name, portkey: portkey.name, litellm: litellm.name });
  process.stdout.write(`${markdown}\n`);
  const day = join(resultsDir, `gateway-${startedAt.toISOString().slice(0, 10)}`);
  // a second full run on the same day keeps the first: gateway-<date>T<hhmm>.md
  const base = quick
    ? join(workDir, 'gateway-quick')
    : existsSync(`${day}.md`)
      ? `${day}T${stamp.slice(11, 16).replace('-', '')}`
      : day;
  writeFileSync(`${base}.md`, `# Gateway benchmark\n\n${markdown}`);
  writeFileSync(`${base}.json`, `${JSON.stringify(run, null, 2)}\n`);
  log(`wrote ${relative(root, base)}.md and .json`);
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping every process started`);
    void stopAll().finally(() => process.exit(130));
  });
}
process.on('exit', killAllNow);

try {
  await main();
} catch (error) {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
} finally {
  await stopAll();
}
