import { PostgresProjectRepository } from '@ensemble/adapters/postgres';
import { credentialsModule, type EnsembleModule, modelsModule, projectsModule } from '@ensemble/server';
import type { Registry } from '../registry/open-registry.ts';
import type { Platform } from './open-platform.ts';

/** The domain modules the API serves, wired to their adapters. */
export function serverModules(platform: Platform, registry: Registry): EnsembleModule[] {
  return [
    projectsModule(new PostgresProjectRepository(platform.database.db)),
    modelsModule(registry.models),
    credentialsModule(registry.credentials),
  ];
}
