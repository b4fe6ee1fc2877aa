import { z } from 'zod';
import type { Page } from '../ports/project-repository.ts';
import type { PipelineDefinition } from './pipeline-definition.ts';
import type { PipelineSource } from './pipeline-ports.ts';

/**
 * How traffic to a pipeline's name is shared between versions: a canary gets `percent` of the runs
 * that name no version or alias; a shadow version runs on the same input after the primary, is
 * recorded (source `shadow`), and its answer is returned to no one.
 */
export const pipelineRolloutSchema = z.strictObject({
  canary: z.strictObject({ version: z.number().int().min(1), percent: z.number().min(0).max(100) }).optional(),
  shadow: z
    .strictObject({ version: z.number().int().min(1), percent: z.number().min(0).max(100).default(100) })
    .optional(),
});
export type PipelineRollout = z.infer<typeof pipelineRolloutSchema>;

export interface StoredPipeline {
  projectId: string;
  name: string;
  description: string;
  latestVersion: number;
  aliases: Record<string, number>;
  rollout: PipelineRollout | null;
  createdAt: string;
  updatedAt: string;
}

export interface PipelineVersion {
  name: string;
  version: number;
  definition: PipelineDefinition;
  description: string;
  createdBy: string;
  createdAt: string;
}

/**
 * Pipelines in storage. Versions are immutable; saving a definition makes the next version. A bare
 * name resolves to the `production` alias when it is set, else to the newest version.
 */
export interface PipelineRepository extends PipelineSource {
  /** Version 1 of a new pipeline (409 when the name is taken). */
  create(
    projectId: string,
    name: string,
    definition: PipelineDefinition,
    description: string,
    actor: string,
  ): Promise<PipelineVersion>;
  addVersion(
    projectId: string,
    name: string,
    definition: PipelineDefinition,
    description: string | undefined,
    actor: string,
  ): Promise<PipelineVersion>;
  get(projectId: string, name: string): Promise<StoredPipeline | undefined>;
  list(projectId: string, options: { limit: number; after?: string | undefined }): Promise<Page<StoredPipeline>>;
  versions(projectId: string, name: string): Promise<PipelineVersion[]>;
  version(projectId: string, name: string, version: number): Promise<PipelineVersion | undefined>;
  setAlias(projectId: string, name: string, alias: string, version: number): Promise<void>;
  deleteAlias(projectId: string, name: string, alias: string): Promise<void>;
  setRollout(projectId: string, name: string, rollout: PipelineRollout | null): Promise<void>;
  delete(projectId: string, name: string): Promise<void>;
}
