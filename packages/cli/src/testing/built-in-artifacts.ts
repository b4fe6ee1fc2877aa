import { link, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalArtifactStore } from '@ensemble/adapters/artifacts';
import { builtInModels, pullBuiltInModels } from '@ensemble/providers/local';

/**
 * The built-in model files for tests, from the cache the providers' tests keep (`.cache/models/artifacts`
 * or ENSEMBLE_TEST_ARTIFACTS): only a machine's very first run downloads them.
 */
export async function builtInArtifacts(): Promise<LocalArtifactStore> {
  const root =
    process.env.ENSEMBLE_TEST_ARTIFACTS ??
    fileURLToPath(new URL('../../../../.cache/models/artifacts', import.meta.url));
  const artifacts = new LocalArtifactStore(root);
  const outcomes = await pullBuiltInModels({ artifacts, tmpDir: join(root, 'tmp') });
  const failed = outcomes.filter((outcome) => outcome.status === 'failed');
  if (failed.length > 0) throw new Error(`cannot get the built-in models: ${JSON.stringify(failed)}`);
  return artifacts;
}

/** Hard-links the built-in model files into another store's folder (`<home>/artifacts`), copying nothing. */
export async function linkBuiltInArtifacts(targetRoot: string): Promise<void> {
  const source = await builtInArtifacts();
  const target = new LocalArtifactStore(targetRoot);
  for (const file of builtInModels.flatMap((model) => model.files)) {
    if (await target.has(file.sha256)) continue;
    const to = join(targetRoot, file.sha256.slice(0, 2), file.sha256);
    await mkdir(join(to, '..'), { recursive: true });
    await link(await source.path(file.sha256), to);
  }
}
