import { hkdfSync, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { MasterKeys } from '@ensemble/adapters/postgres';
import { type EnsembleConfig, EnsembleError, isGeneratedSecret, type Logger } from '@ensemble/core';

export interface LoadMasterKeysOptions {
  config: EnsembleConfig;
  logger: Logger;
  /** In production the key must come from the environment (a secret), never from a generated file. */
  production?: boolean;
}

export const masterKeyFileName = 'master.key';

/**
 * The keys credentials are encrypted with: ENSEMBLE_MASTER_KEY, or, when unset outside production,
 * `<ENSEMBLE_HOME>/master.key` — created on first start (mode 600) so `npm start` needs no setup.
 */
export async function loadMasterKeys({
  config,
  logger,
  production = process.env.NODE_ENV === 'production',
}: LoadMasterKeysOptions): Promise<MasterKeys> {
  const previous = config.secrets.previousMasterKeys.map(decode);
  if (config.secrets.masterKey !== undefined) return { current: decode(config.secrets.masterKey), previous };
  if (production) {
    throw new EnsembleError(
      'config_invalid',
      'ENSEMBLE_MASTER_KEY is not set. Fix: in production set it from your secret store to 32 random bytes in base64 (openssl rand -base64 32); every instance must share it.',
      { field: 'ENSEMBLE_MASTER_KEY' },
    );
  }
  return { current: await fileKey(resolve(config.home), logger), previous };
}

async function fileKey(home: string, logger: Logger): Promise<Buffer> {
  const path = join(home, masterKeyFileName);
  await mkdir(home, { recursive: true });
  const key = randomBytes(32);
  try {
    // `wx` fails when the file exists, so two processes starting at once keep the first key.
    await writeFile(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(path, 0o600);
    logger.warn(
      { path },
      'ENSEMBLE_MASTER_KEY is unset: generated a master key for credentials in this file; back it up, or set ENSEMBLE_MASTER_KEY in production',
    );
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const mode = (await stat(path)).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    logger.warn({ path, mode: mode.toString(8) }, 'the master key file is readable by others; chmod 600 it');
  }
  const text = (await readFile(path, 'utf8')).trim();
  try {
    return decode(text);
  } catch {
    throw new EnsembleError(
      'config_invalid',
      `${path} does not hold a master key (32 bytes in base64). Fix: restore it from a backup, or set ENSEMBLE_MASTER_KEY.`,
      { field: 'ENSEMBLE_MASTER_KEY' },
    );
  }
}

function decode(value: string): Buffer {
  // A secret store's generated string (Secrets Manager in the CDK app) is stretched to 32 bytes.
  if (isGeneratedSecret(value)) return Buffer.from(hkdfSync('sha256', value, '', 'ensemble/master-key/v1', 32));
  const key = Buffer.from(value, 'base64');
  if (key.length !== 32) throw new Error('a master key is 32 bytes');
  return key;
}
