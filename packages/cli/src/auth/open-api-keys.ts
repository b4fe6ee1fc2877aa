import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type BootstrapOutcome, type Database, PostgresApiKeyStore } from '@ensemble/adapters/postgres';
import type { EnsembleConfig, Logger } from '@ensemble/core';

export interface OpenApiKeysOptions {
  config: EnsembleConfig;
  database: Database;
  logger: Logger;
  /** In production the generated admin key is printed, never written to disk. */
  production?: boolean;
  /** Where the generated key is shown, once; stderr by default. */
  print?: (text: string) => void;
}

export const adminKeyFileName = 'admin.key';

/**
 * The API key store every `/v1` and `/api` request is checked against, with its bootstrap admin key:
 * ENSEMBLE_ADMIN_KEY, or one generated at first start, shown once, and (outside production) kept in
 * `<ENSEMBLE_HOME>/admin.key` (mode 600) so whoever ran `npm start` can find it.
 */
export async function openApiKeys(options: OpenApiKeysOptions): Promise<PostgresApiKeyStore> {
  const { config, database, logger } = options;
  const production = options.production ?? process.env.NODE_ENV === 'production';
  const store = new PostgresApiKeyStore(database.db, { cacheTtlMs: config.auth.keyCacheTtlMs, logger });
  try {
    const outcome = await store.ensureBootstrapKey(config.auth.adminKey);
    await report(outcome, { ...options, production });
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

async function report(outcome: BootstrapOutcome, options: OpenApiKeysOptions & { production: boolean }) {
  const { logger, production } = options;
  const file = join(resolve(options.config.home), adminKeyFileName);
  switch (outcome.kind) {
    case 'generated': {
      const fields = { keyId: outcome.key.id, prefix: outcome.key.prefix };
      if (!production) await writeKeyFile(file, outcome.secret);
      (options.print ?? ((text) => process.stderr.write(text)))(
        announcement(outcome.secret, production ? undefined : file),
      );
      logger.warn(
        production ? fields : { ...fields, file },
        production
          ? 'generated the bootstrap admin API key and printed it once; set ENSEMBLE_ADMIN_KEY from a secret store instead'
          : 'generated the bootstrap admin API key and printed it once',
      );
      return;
    }
    case 'configured':
      logger.info(
        { keyId: outcome.key.id, prefix: outcome.key.prefix, replaced: outcome.replaced?.id },
        'the bootstrap admin API key is now ENSEMBLE_ADMIN_KEY',
      );
      return;
    case 'unchanged':
      logger.info(
        { keyId: outcome.key.id, prefix: outcome.key.prefix, ...(production ? {} : { file }) },
        'bootstrap admin API key in place',
      );
      return;
    case 'revoked':
      logger.warn(
        { keyId: outcome.key.id },
        'ENSEMBLE_ADMIN_KEY was revoked through the API and does not authenticate; set a new value to replace it',
      );
      return;
    case 'none':
      logger.info(
        { keyId: outcome.revoked.id },
        'the bootstrap admin API key was revoked; set ENSEMBLE_ADMIN_KEY to make a new one',
      );
      return;
  }
}

/**
 * Replaces any older file (its key belonged to a database that no longer has it). Created anew with
 * mode 600, so the secret is never readable by others, not even for a moment.
 */
async function writeKeyFile(file: string, secret: string): Promise<void> {
  await mkdir(resolve(file, '..'), { recursive: true });
  await rm(file, { force: true });
  await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
}

function announcement(secret: string, file: string | undefined): string {
  const where = file === undefined ? 'It is not stored anywhere: keep it now.' : `It is also in ${file} (mode 600).`;
  return [
    '',
    'Ensemble generated the bootstrap admin API key. It is shown only this once:',
    '',
    `    ${secret}`,
    '',
    where,
    "Send it as 'Authorization: Bearer <key>'; create more keys with POST /api/keys.",
    'Set ENSEMBLE_ADMIN_KEY to choose the admin key yourself.',
    '',
    '',
  ].join('\n');
}
