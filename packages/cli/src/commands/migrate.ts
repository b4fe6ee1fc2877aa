import { createLogger } from '@ensemble/server';
import { loadConfig } from '../config/load-config.ts';
import type { GlobalOptions } from '../main.ts';
import { openPlatform } from '../runtime/open-platform.ts';

/** `ensemble migrate`: applies pending migrations and exits; run before a rolling deploy. */
export async function migrateCommand(options: GlobalOptions): Promise<void> {
  const config = loadConfig({ env: process.env, ...(options.config ? { configPath: options.config } : {}) });
  const logger = createLogger({ level: config.log.level });
  const platform = await openPlatform(config, logger, { migrate: true, bus: false });
  await platform.close();
}
