import { join } from 'node:path';
import type { Database } from '@ensemble/adapters/postgres';
import { type ArtifactStore, type EnsembleConfig, type Logger, ModelRuntimeManager } from '@ensemble/core';
import type { Registry } from '../registry/open-registry.ts';
import { registerBuiltInModels } from '../registry/register-built-in-models.ts';
import { withRegistryLock } from '../registry/with-registry-lock.ts';
import { outboundGuardFor } from '../runtime/outbound-guard-for.ts';
import { systemClock } from '../runtime/system-clock.ts';
import { type BackgroundDeployment, deployBuiltInModels } from './deploy-built-in-models.ts';
import { modelProviders } from './model-providers.ts';
import { openArtifactStore } from './open-artifact-store.ts';

export interface ModelRuntimes {
  readonly manager: ModelRuntimeManager;
  /** Model files: `<home>/artifacts`, or ENSEMBLE_ARTIFACTS_BUCKET cached there; uploads go here too. */
  readonly artifacts: ArtifactStore;
  /** Starts deploying the built-in models in the background (after the server listens). */
  /** Undefined unless ENSEMBLE_BUILT_IN_MODELS is `deploy`. */
  deployBuiltIns(): BackgroundDeployment | undefined;
  /** Abandons background downloads, then disposes every runtime. Idempotent. */
  close(): Promise<void>;
}

export interface OpenModelRuntimesOptions {
  config: EnsembleConfig;
  database: Database;
  registry: Registry;
  logger: Logger;
  healthIntervalMs?: number;
}

/**
 * The runtimes side of the registry: the artifact store (`<home>/artifacts`, or S3), every provider, the
 * runtime manager, and the built-in local models registered in `default` (under the registry lock).
 */
export async function openModelRuntimes(options: OpenModelRuntimesOptions): Promise<ModelRuntimes> {
  const { config, registry, logger } = options;
  const store = openArtifactStore(config);
  const { artifacts, root } = store;
  if (config.runtimes.artifactsBucket !== undefined) logger.info({ artifacts: store.location }, 'model files in S3');
  const { builtInModels, healthIntervalMs } = config.runtimes;
  if (builtInModels !== 'off') {
    const registered = await withRegistryLock(options.database, () =>
      registerBuiltInModels({ models: registry.models, logger }),
    );
    logger.info({ builtIns: registered }, 'built-in models registered');
  }

  const manager = new ModelRuntimeManager({
    providers: modelProviders(artifacts),
    // Hosted models' calls and health probes connect through the SSRF guard (base URLs re-checked per connection).
    fetch: outboundGuardFor(config).guardedFetch,
    models: registry.models,
    revealCredential: (projectId, name) => registry.credentials.reveal(projectId, name),
    clock: systemClock,
    logger: logger.child({ component: 'model-runtimes' }),
    healthIntervalMs: options.healthIntervalMs ?? healthIntervalMs,
  });

  let background: BackgroundDeployment | undefined;
  let closing: Promise<void> | undefined;
  return {
    manager,
    artifacts,
    deployBuiltIns() {
      if (builtInModels !== 'deploy') return undefined;
      background ??= deployBuiltInModels({
        manager,
        models: registry.models,
        artifacts,
        tmpDir: join(root, 'tmp'),
        logger,
      });
      return background;
    },
    close() {
      closing ??= (async () => {
        background?.stop();
        await manager.close();
        await background?.done;
        store.close();
      })();
      return closing;
    },
  };
}
