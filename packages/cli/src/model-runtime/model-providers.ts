import type { ArtifactStore, ModelProvider } from '@ensemble/core';
import { hostedProviders } from '@ensemble/providers/hosted';
import { createLocalProvider } from '@ensemble/providers/local';

/** Every provider this process can build runtimes with, by id: the hosted ones and `local`. */
export function modelProviders(artifacts: ArtifactStore): ReadonlyMap<string, ModelProvider> {
  const providers = [...hostedProviders, createLocalProvider({ artifacts })];
  return new Map(providers.map((provider) => [provider.id, provider]));
}
