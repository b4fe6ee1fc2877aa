import {
  EnsembleError,
  type Logger,
  type ModelRepository,
  modelCapabilitiesSchema,
  type RegisterModelInput,
  registerModelSchema,
} from '@ensemble/core';
import { type BuiltInModel, builtInModels } from '@ensemble/providers/local';

export interface RegisterBuiltInsOptions {
  models: ModelRepository;
  logger: Logger;
  builtIns?: readonly BuiltInModel[];
  projectId?: string;
}

export interface BuiltInRegistration {
  name: string;
  outcome: 'created' | 'present';
}

/**
 * Registers the built-in local models in the `default` project when they are missing. A model that
 * exists is left as it is (a user may have versioned, aliased or retired it). Idempotent; run it
 * under the registry lock.
 */
export async function registerBuiltInModels(options: RegisterBuiltInsOptions): Promise<BuiltInRegistration[]> {
  const projectId = options.projectId ?? 'default';
  const outcomes: BuiltInRegistration[] = [];
  for (const model of options.builtIns ?? builtInModels) {
    if (await exists(options.models, projectId, model.name)) {
      outcomes.push({ name: model.name, outcome: 'present' });
      continue;
    }
    await options.models.register(registerModelSchema.parse(registration(model, projectId)), {
      actor: 'ensemble.built-in',
    });
    options.logger.info({ model: model.name, kind: model.kind }, 'built-in model registered');
    outcomes.push({ name: model.name, outcome: 'created' });
  }
  return outcomes;
}

/** The registry entry of a built-in model. */
export function registration(model: BuiltInModel, projectId: string): RegisterModelInput {
  const weights = model.files.find((file) => file.role === 'weights');
  return {
    name: model.name,
    kind: model.kind,
    projectId,
    provider: 'local',
    providerModelId: model.providerModelId,
    description: `${model.description}. Licence: ${model.licence}.`.slice(0, 2000),
    tags: ['built-in', 'local'],
    capabilities: capabilitiesOf(model),
    ...(weights === undefined ? {} : { artifact: { sha256: weights.sha256, format: weights.format } }),
  };
}

/** The manifest's capabilities that the registry's schema knows; free-text notes are left out. */
function capabilitiesOf(model: BuiltInModel): Record<string, unknown> {
  const shape = modelCapabilitiesSchema.shape;
  const known = Object.entries(model.capabilities).filter(
    ([key, value]) => Object.hasOwn(shape, key) && shape[key as keyof typeof shape].safeParse(value).success,
  );
  return Object.fromEntries(known);
}

async function exists(models: ModelRepository, projectId: string, name: string): Promise<boolean> {
  try {
    await models.resolve(projectId, name);
    return true;
  } catch (error) {
    if (EnsembleError.isInstance(error) && error.code === 'not_found') return false;
    throw error;
  }
}
