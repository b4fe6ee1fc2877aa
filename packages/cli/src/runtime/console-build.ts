import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';

/** The web console's production build, served at `/` (packages/console/dist). */
export const consoleDist = fileURLToPath(new URL('../../../console/dist', import.meta.url));
const buildScript = new URL('../../../console/scripts/build.ts', import.meta.url);

interface ConsoleBuildScript {
  buildConsole(options: {
    quiet?: boolean;
  }): Promise<{ status: 'built' | 'fresh' | 'unavailable'; durationMs: number }>;
}

/**
 * `npm ci` builds the console (its `prepare` step); a checkout that skipped it gets the build on its
 * first start. Only a missing build is made here (a stale one is left to `npm ci` or the build script),
 * and a failure leaves the API running with a page that says how to build the console.
 */
export async function prepareConsole(logger: Logger): Promise<string> {
  if (existsSync(join(consoleDist, 'index.html')) || !existsSync(fileURLToPath(buildScript))) return consoleDist;
  logger.info('building the web console (first start)');
  try {
    const { buildConsole } = (await import(buildScript.href)) as ConsoleBuildScript;
    const outcome = await buildConsole({ quiet: true });
    if (outcome.status === 'built') logger.info({ durationMs: outcome.durationMs }, 'web console built');
    else if (outcome.status === 'unavailable') logger.warn('Vite is not installed: the web console is not built');
  } catch (error) {
    logger.warn({ err: error }, 'could not build the web console; / explains how to build it');
  }
  return consoleDist;
}
