/**
 * The console's first load, measured in real Chromium against a real `ensemble start` on loopback:
 * a cold load (empty cache, new browser context) and a warm one (same context, reloaded: hashed
 * assets come from the cache, index.html revalidates with a 304). Medians of --runs (default 7).
 *
 *   node bench/console/first-load.ts [--runs 7]
 *
 * Loopback hides network latency: the figures are the server's and the browser's own work, plus
 * the bytes a real network would carry.
 */
import { chmod, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { spawnEnsemble } from '../../packages/cli/src/testing/ensemble-process.ts';
import { launchChromium } from '../../packages/console/e2e/browser.ts';
import { buildConsole, consoleDist } from '../../packages/console/scripts/build.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' } } });
const runs = Number(values.runs);

interface Load {
  domContentLoadedMs: number;
  signInVisibleMs: number;
  transferredBytes: number;
  requests: number;
}

const median = (numbers: number[]) => {
  const sorted = [...numbers].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

async function bundleFigures() {
  const files = await readdir(join(consoleDist, 'assets'));
  const figures: Array<{ file: string; bytes: number; gzipBytes: number }> = [];
  for (const file of files) {
    const body = await readFile(join(consoleDist, 'assets', file));
    figures.push({
      file,
      bytes: (await stat(join(consoleDist, 'assets', file))).size,
      gzipBytes: gzipSync(body, { level: 9 }).length,
    });
  }
  return figures;
}

await buildConsole({ quiet: true });
const home = await mkdtemp(join(tmpdir(), 'ensemble-console-bench-'));
await chmod(home, 0o755);
const ensemble = await spawnEnsemble(['start'], { ENSEMBLE_HOME: home });
const browser = await launchChromium();
const measure = `(() => {
  const navigation = performance.getEntriesByType('navigation')[0];
  const resources = performance.getEntriesByType('resource');
  return {
    domContentLoadedMs: navigation.domContentLoadedEventEnd,
    signInVisibleMs: performance.now(),
    transferredBytes: navigation.transferSize + resources.reduce((sum, entry) => sum + entry.transferSize, 0),
    requests: 1 + resources.length,
  };
})()`;
try {
  const cold: Load[] = [];
  const warm: Load[] = [];
  for (let run = 0; run < runs; run++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    await page.goto(ensemble.url, { waitUntil: 'commit' });
    await page.getByRole('heading', { name: 'Sign in to Ensemble' }).waitFor();
    cold.push((await page.evaluate(measure)) as Load);
    await page.reload({ waitUntil: 'commit' });
    await page.getByRole('heading', { name: 'Sign in to Ensemble' }).waitFor();
    warm.push((await page.evaluate(measure)) as Load);
    await context.close();
  }
  const summary = (loads: Load[]) => ({
    domContentLoadedMs: Math.round(median(loads.map((load) => load.domContentLoadedMs))),
    signInVisibleMs: Math.round(median(loads.map((load) => load.signInVisibleMs))),
    transferredBytes: median(loads.map((load) => load.transferredBytes)),
    requests: median(loads.map((load) => load.requests)),
  });
  process.stdout.write(
    `${JSON.stringify({ runs, bundle: await bundleFigures(), cold: summary(cold), warm: summary(warm) }, null, 2)}\n`,
  );
} finally {
  await browser.close();
  await ensemble.stop();
  await rm(home, { recursive: true, force: true });
}
