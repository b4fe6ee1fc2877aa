/**
 * The gateway benchmark's results: their shape (also written as raw JSON) and the Markdown report —
 * absolute numbers, latency added over the direct upstream at the same concurrency, and ratios
 * against the floor, Portkey and LiteLLM measured in the same run.
 */
import type { StreamTiming } from './stream-timing.ts';
import type { LoadResult } from './wrk-load.ts';

export interface LoadPoint extends LoadResult {
  /** CPU time (user + system) of the measured process per completed request, µs. */
  cpuUsPerRequest: number;
  rssMb: number;
}

export interface TargetResult {
  name: string;
  isDirect: boolean;
  versions: Record<string, string>;
  notes: string[];
  loadAverageAtStart: number[];
  load: LoadPoint[];
  stream?: StreamTiming;
  error?: string;
}

export interface RunResult {
  startedAt: string;
  finishedAt: string;
  command: string;
  machine: {
    nproc: number;
    cpuModel: string;
    memoryGiB: number;
    kernel: string;
    node: string;
    wrk: string;
  };
  settings: {
    durationS: number;
    warmupS: number;
    connections: number[];
    streamRequests: number;
    gatewayCpu: number;
    loadCpu: number;
  };
  loadAverage: { start: number[]; end: number[] };
  targets: TargetResult[];
}

export interface ReferenceNames {
  floor: string;
  portkey: string;
  litellm: string;
}

const ms = (value: number | undefined): string =>
  value === undefined || !Number.isFinite(value) ? '–' : value < 10 ? value.toFixed(2) : value.toFixed(1);
const signedMs = (value: number | undefined): string =>
  value === undefined || !Number.isFinite(value) ? '–' : `${value >= 0 ? '+' : ''}${ms(value)}`;
const integer = (value: number | undefined): string =>
  value === undefined || !Number.isFinite(value) ? '–' : Math.round(value).toLocaleString('en-US');
const ratio = (value: number | undefined): string =>
  value === undefined || !Number.isFinite(value) ? '–' : `${value >= 10 ? value.toFixed(0) : value.toFixed(2)}×`;
const loads = (values: number[]): string => values.map((value) => value.toFixed(2)).join(' / ');

function pointAt(result: TargetResult | undefined, connections: number): LoadPoint | undefined {
  return result?.load.find((point) => point.connections === connections);
}

export function renderMarkdown(run: RunResult, references: ReferenceNames): string {
  const byName = new Map(run.targets.map((target) => [target.name, target]));
  const directResult = run.targets.find((target) => target.isDirect);
  const floor = byName.get(references.floor);
  const portkey = byName.get(references.portkey);
  const litellm = byName.get(references.litellm);
  const lowest = Math.min(...run.settings.connections);
  const highest = Math.max(...run.settings.connections);
  const lines: string[] = [];

  lines.push(`Run of ${run.startedAt} → ${run.finishedAt}`, '');
  lines.push('```sh', run.command, '```', '');
  const m = run.machine;
  lines.push(
    `Machine: ${m.nproc} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB, Linux ${m.kernel}; Node ${m.node}; ${m.wrk}.`,
    `Gateway pinned to CPU ${run.settings.gatewayCpu}; wrk (-t1), the fake upstream and the stream client to CPU ${run.settings.loadCpu}. ` +
      `${run.settings.durationS} s per level after ${run.settings.warmupS} s of warm-up; ${run.settings.streamRequests} sequential streams per target.`,
    `Load average (1/5/15 min) at start ${loads(run.loadAverage.start)}, at end ${loads(run.loadAverage.end)}; ` +
      `per target at its start: ${run.targets.map((t) => `${t.name} ${loads(t.loadAverageAtStart)}`).join('; ')}.`,
    '',
  );
  const versions = run.targets.flatMap((t) =>
    Object.entries(t.versions).map(([name, version]) => `${name} ${version}`),
  );
  if (versions.length > 0) lines.push(`Versions: ${versions.join(', ')}.`, '');

  lines.push('### Chat completions (non-streaming), `wrk --latency`', '');
  lines.push(
    '| target | conns | RPS | p50 ms | p99 ms | added p50 ms | added p99 ms | CPU µs/req | RSS MB | errors |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const target of run.targets) {
    if (target.error && target.load.length === 0) {
      lines.push(`| ${target.name} | – | failed: ${target.error.replaceAll('|', '\\|').slice(0, 200)} | | | | | | | |`);
      continue;
    }
    for (const point of target.load) {
      const base = pointAt(directResult, point.connections);
      const added = (key: 'p50Ms' | 'p99Ms') => (target.isDirect || !base ? undefined : point[key] - base[key]);
      const cpu = target.isDirect ? `(${integer(point.cpuUsPerRequest)})` : integer(point.cpuUsPerRequest);
      lines.push(
        `| ${target.name} | ${point.connections} | ${integer(point.rps)} | ${ms(point.p50Ms)} | ${ms(point.p99Ms)} | ` +
          `${target.isDirect ? '–' : signedMs(added('p50Ms'))} | ${target.isDirect ? '–' : signedMs(added('p99Ms'))} | ` +
          `${cpu} | ${point.rssMb.toFixed(0)} | ${point.errors} |`,
      );
    }
  }
  lines.push(
    '',
    'Added = through the gateway minus direct at the same number of connections. CPU is the gateway process' +
      ' (with its threads and children) per completed request; for the direct row, in parentheses, the fake upstream itself.',
    '',
  );

  lines.push('### Ratios (same run)', '');
  lines.push(
    `| target | RPS@${highest} ÷ floor | RPS@${highest} ÷ Portkey | RPS@${highest} ÷ LiteLLM | added p50@${lowest} ÷ Portkey's | added p50@${lowest} ÷ LiteLLM's | CPU/req@${highest} ÷ Portkey's |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  const addedP50 = (target: TargetResult | undefined): number | undefined => {
    const point = pointAt(target, lowest);
    const base = pointAt(directResult, lowest);
    return point && base ? point.p50Ms - base.p50Ms : undefined;
  };
  const rpsHigh = (target: TargetResult | undefined) => pointAt(target, highest)?.rps;
  const cpuHigh = (target: TargetResult | undefined) => pointAt(target, highest)?.cpuUsPerRequest;
  const divide = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? undefined : a / b;
  for (const target of run.targets) {
    if (target.isDirect || target.load.length === 0) continue;
    lines.push(
      `| ${target.name} | ${ratio(divide(rpsHigh(target), rpsHigh(floor)))} | ${ratio(divide(rpsHigh(target), rpsHigh(portkey)))} | ` +
        `${ratio(divide(rpsHigh(target), rpsHigh(litellm)))} | ${ratio(divide(addedP50(target), addedP50(portkey)))} | ` +
        `${ratio(divide(addedP50(target), addedP50(litellm)))} | ${ratio(divide(cpuHigh(target), cpuHigh(portkey)))} |`,
    );
  }
  lines.push('');

  lines.push(
    '### Streams (10 chunks + usage chunk + `[DONE]`, sequential, one connection)',
    '',
    '| target | first chunk p50 ms | p99 ms | last chunk p50 ms | p99 ms | added first p50 ms | added last p50 ms | events | failed |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  const directStream = directResult?.stream;
  for (const target of run.targets) {
    const s = target.stream;
    if (!s) continue;
    const addedFirst =
      target.isDirect || !directStream ? undefined : s.firstChunk.p50Ms - directStream.firstChunk.p50Ms;
    const addedLast = target.isDirect || !directStream ? undefined : s.lastChunk.p50Ms - directStream.lastChunk.p50Ms;
    lines.push(
      `| ${target.name} | ${ms(s.firstChunk.p50Ms)} | ${ms(s.firstChunk.p99Ms)} | ${ms(s.lastChunk.p50Ms)} | ${ms(s.lastChunk.p99Ms)} | ` +
        `${target.isDirect ? '–' : signedMs(addedFirst)} | ${target.isDirect ? '–' : signedMs(addedLast)} | ${s.events} | ${s.failures} |`,
    );
  }
  const notes = run.targets.flatMap((t) => [
    ...t.notes.map((note) => `${t.name}: ${note}`),
    ...(t.error ? [`${t.name}: ${t.error}`] : []),
    ...(t.stream?.firstFailure ? [`${t.name}: first failed stream: ${t.stream.firstFailure}`] : []),
  ]);
  if (notes.length > 0) lines.push('', 'Notes:', '', ...notes.map((note) => `- ${note}`));
  lines.push('');
  return lines.join('\n');
}
