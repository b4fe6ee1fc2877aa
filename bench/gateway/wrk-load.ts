/**
 * One bounded `wrk` load run (`-t1 -cN -dS --latency`) pinned to a CPU, POSTing a fixed JSON body.
 * A generated Lua script sets method, body and headers, and its `done` hook prints the summary as
 * one `WRKJSON {...}` line (latency percentiles in microseconds), which is what we parse.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnPinned } from './pinned-processes.ts';

export interface LoadResult {
  connections: number;
  durationS: number;
  requests: number;
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Non-2xx/3xx answers plus connect/read/write/timeout errors. */
  errors: number;
  errorDetail: Record<string, number>;
}

function luaLongString(value: string): string {
  let level = '=';
  while (value.includes(`]${level}]`)) level += '=';
  return `[${level}[${value}]${level}]`;
}

export function writeWrkScript(path: string, body: string, headers: Record<string, string>): void {
  const headerLines = Object.entries({ 'content-type': 'application/json', ...headers })
    .map(([name, value]) => `wrk.headers[ ${luaLongString(name)} ] = ${luaLongString(value)}`)
    .join('\n');
  writeFileSync(
    path,
    `wrk.method = "POST"
wrk.body = ${luaLongString(body)}
${headerLines}

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"p50_us":%.0f,"p90_us":%.0f,"p99_us":%.0f,"max_us":%.0f,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
`,
  );
}

export async function runWrk(options: {
  url: string;
  scriptPath: string;
  connections: number;
  durationS: number;
  cpu: number;
  logFile: string;
  timeoutS?: number;
}): Promise<LoadResult> {
  const args = [
    '-t1',
    `-c${options.connections}`,
    `-d${options.durationS}s`,
    '--latency',
    `--timeout`,
    `${options.timeoutS ?? 5}s`,
    '-s',
    options.scriptPath,
    options.url,
  ];
  const wrk = spawnPinned({ name: 'wrk', cpu: options.cpu, command: 'wrk', args, logFile: options.logFile });
  const bound = (options.durationS + 20) * 1000;
  const status = await Promise.race([wrk.exited, sleep(bound).then(() => 'timeout')]);
  await wrk.stop();
  if (status === 'timeout') throw new Error(`wrk did not finish within ${bound / 1000} s (see ${options.logFile})`);
  const line = readFileSync(options.logFile, 'utf8')
    .split('\n')
    .filter((text) => text.startsWith('WRKJSON '))
    .at(-1);
  if (!line) throw new Error(`wrk printed no summary (exit ${status}); see ${options.logFile}`);
  const raw = JSON.parse(line.slice(8)) as Record<string, number>;
  const get = (key: string) => raw[key] ?? 0;
  const errorDetail = {
    connect: get('connect'),
    read: get('read'),
    write: get('write'),
    status: get('status'),
    timeout: get('timeout'),
  };
  const seconds = get('duration_us') / 1e6;
  return {
    connections: options.connections,
    durationS: seconds,
    requests: get('requests'),
    rps: seconds > 0 ? get('requests') / seconds : 0,
    p50Ms: get('p50_us') / 1000,
    p90Ms: get('p90_us') / 1000,
    p99Ms: get('p99_us') / 1000,
    maxMs: get('max_us') / 1000,
    errors: Object.values(errorDetail).reduce((sum, count) => sum + count, 0),
    errorDetail,
  };
}
