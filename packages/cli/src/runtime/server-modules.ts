import { PostgresProjectRepository } from '@ensemble/adapters/postgres';
import type { ModelRuntimeManager } from '@ensemble/core';
import {
  credentialsModule,
  type EnsembleModule,
  modelRuntimeModule,
  modelsModule,
  projectsModule,
} from '@ensemble/server';
import type { Registry } from '../registry/open-registry.ts';
import type { Platform } from './open-platform.ts';

/** The domain modules the API serves, wired to their adapters. */
export function serverModules(platform: Platform, registry: Registry, runtimes: ModelRuntimeManager): EnsembleModule[] {
  return [
    projectsModule(new PostgresProjectRepository(platform.database.db)),
    modelsModule(registry.models),
    credentialsModule(registry.credentials),
    modelRuntimeModule(runtimes),
  ];
}
