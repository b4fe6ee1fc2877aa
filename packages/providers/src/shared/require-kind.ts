import { EnsembleError, type ModelKind, type RuntimeSpec } from '@ensemble/core';

/** A provider asked for a kind it cannot build (e.g. `classifier` from Anthropic) says so plainly. */
export function requireKind(providerId: string, kinds: readonly ModelKind[], spec: RuntimeSpec): void {
  if (kinds.includes(spec.kind)) return;
  throw new EnsembleError(
    'validation_failed',
    `kind: provider '${providerId}' cannot serve kind '${spec.kind}' (model '${spec.name}'); it serves ${kinds.join(', ')}`,
    { field: 'kind', details: { provider: providerId, kind: spec.kind, supported: [...kinds] } },
  );
}
