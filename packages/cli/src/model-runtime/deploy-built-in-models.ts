import type { ArtifactStore, Logger, ModelRepository, ModelRuntimeManager } from '@ensemble/core';
import {
  type BuiltInModel,
  builtInModels,
  isBuiltInModelPresent,
  type PullOptions,
  type PullOutcome,
  pullBuiltInModels,
} from '@ensemble/providers/local';

export interface DeployBuiltInsOptions {
  manager: ModelRuntimeManager;
  models: ModelRepository;
  artifacts: ArtifactStore;
  /** Scratch folder for downloads, on the artifact store's disk. */
  tmpDir: string;
  logger: Logger;
  builtIns?: readonly BuiltInModel[];
  projectId?: string;
  /** Fetches missing weights (the local provider's pull). */
  pull?: (options: PullOptions) => Promise<PullOutcome[]>;
}

export interface BackgroundDeployment {
  /** Settles when every built-in model is deployed or has failed; never rejects. */
  readonly done: Promise<void>;
  /** Abandons downloads still running (at shutdown). */
  stop(): void;
}

const context = { actor: 'ensemble.built-in' };

/**
 * Deploys the built-in models without holding up the API: each model's missing weights are pulled,
 * then it is deployed, all models side by side. A model that cannot be fetched or loaded is marked
 * `failed` with the reason; the others and the rest of Ensemble carry on. Retired ones are skipped.
 */
export function deployBuiltInModels(options: DeployBuiltInsOptions): BackgroundDeployment {
  const { manager, models, logger } = options;
  const projectId = options.projectId ?? 'default';
  const pull = options.pull ?? pullBuiltInModels;
  const stopping = new AbortController();

  const deployOne = async (model: BuiltInModel) => {
    const descriptor = await models.resolve(projectId, model.name);
    if (descriptor.status === 'retired' || descriptor.provider !== 'local') return;
    if (model.archive !== undefined && !(await isBuiltInModelPresent(model, options.artifacts))) {
      await models.setStatus(projectId, model.name, 'deploying', { ...context, reason: 'fetching its weights' });
      logger.info({ model: model.name }, 'fetching the weights of a built-in model');
      const [outcome] = await pull({
        artifacts: options.artifacts,
        tmpDir: options.tmpDir,
        models: [model],
        signal: stopping.signal,
      });
      if (stopping.signal.aborted) return;
      if (outcome?.status === 'failed') {
        const reason = `could not fetch its weights: ${outcome.error ?? 'unknown error'}. Fix: run \`ensemble models pull\` where the package registries are reachable, then POST /api/models/${model.name}/deploy`;
        await models.setStatus(projectId, model.name, 'failed', { ...context, reason });
        logger.warn({ model: model.name, reason }, 'built-in model not deployed');
        return;
      }
    }
    if (stopping.signal.aborted) return;
    await manager.deploy(projectId, model.name, context);
    logger.info({ model: model.name }, 'built-in model ready');
  };

  const done = Promise.all(
    (options.builtIns ?? builtInModels).map((model) =>
      deployOne(model).catch((error: unknown) => {
        if (stopping.signal.aborted) return;
        logger.warn({ err: error, model: model.name }, 'built-in model not deployed');
      }),
    ),
  ).then(() => undefined);

  return { done, stop: () => stopping.abort() };
}
