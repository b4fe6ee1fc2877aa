import { EnsembleError } from '../errors/ensemble-error.ts';
import type { ModelVersion } from './model-descriptor.ts';
import { isModelKind } from './model-kind.ts';
import type { RuntimeSpec } from './model-provider.ts';

/** What a provider needs from a resolved registry entry; only the kinds Ensemble can call qualify. */
export function toRuntimeSpec(name: string, kind: string, version: ModelVersion): RuntimeSpec {
  if (!isModelKind(kind)) {
    throw new EnsembleError('validation_failed', `model '${name}' is of kind '${kind}', which Ensemble cannot call`, {
      field: 'kind',
    });
  }
  return {
    name,
    kind,
    providerModelId: version.providerModelId,
    ...(version.baseUrl === undefined ? {} : { baseUrl: version.baseUrl }),
    parameters: version.parameters,
    options: version.options,
    ...(version.artifact === undefined ? {} : { artifact: version.artifact }),
  };
}
