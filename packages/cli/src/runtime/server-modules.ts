import { PostgresProjectRepository } from '@ensemble/adapters/postgres';
import { type EnsembleModule, projectsModule } from '@ensemble/server';
import type { Platform } from './open-platform.ts';

/** The domain modules the API serves, wired to their adapters. */
export function serverModules(platform: Platform): EnsembleModule[] {
  return [projectsModule(new PostgresProjectRepository(platform.database.db))];
}
