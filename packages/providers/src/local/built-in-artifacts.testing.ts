import { fileURLToPath } from 'node:url';
import { LocalArtifactStore } from '@ensemble/adapters/artifacts';
import type { RuntimeSpec } from '@ensemble/core';
import { builtInModels } from './built-in-models.ts';
import { pullBuiltInModels } from './pull-built-in-models.ts';

/**
 * The built-in model files for tests, from a cache kept across runs (`.cache/models/artifacts` at the
 * repository root, or ENSEMBLE_TEST_ARTIFACTS): only the first run downloads them.
 */
export async function builtInArtifacts(): Promise<LocalArtifactStore> {
  const root =
    process.env.ENSEMBLE_TEST_ARTIFACTS ??
    fileURLToPath(new URL('../../../../.cache/models/artifacts', import.meta.url));
  const artifacts = new LocalArtifactStore(root);
  const outcomes = await pullBuiltInModels({ artifacts, tmpDir: `${root}/tmp` });
  const failed = outcomes.filter((outcome) => outcome.status === 'failed');
  if (failed.length > 0) throw new Error(`cannot get the built-in models: ${JSON.stringify(failed)}`);
  return artifacts;
}

/** The registry entry of a built-in model, as the registry would hand it to the provider. */
export function builtInSpec(name: string, overrides: Partial<RuntimeSpec> = {}): RuntimeSpec {
  const model = builtInModels.find((candidate) => candidate.name === name);
  if (model === undefined) throw new Error(`no built-in model ${name}`);
  return {
    name,
    kind: model.kind,
    providerModelId: model.providerModelId,
    parameters: {},
    options: {},
    ...overrides,
  };
}
