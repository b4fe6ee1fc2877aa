import { EnsembleError, type RuntimeContext, type RuntimeSpec } from '@ensemble/core';

/** Providers that cannot work without an API key fail at creation, not at the first call. */
export function requireSecret(providerId: string, spec: RuntimeSpec, context: RuntimeContext): string {
  if (context.secret !== undefined && context.secret.length > 0) return context.secret;
  throw new EnsembleError(
    'validation_failed',
    `credential: provider '${providerId}' needs an API key; give model '${spec.name}' a credential`,
    { field: 'credential', details: { provider: providerId } },
  );
}
