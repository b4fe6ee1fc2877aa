import type { AliasHistoryEntry, ModelAlias } from '../models/model-alias.ts';
import type {
  ModelDescriptor,
  ModelVersion,
  NewModelVersion,
  RegisterModel,
  UpdateModel,
} from '../models/model-descriptor.ts';
import type { ModelRef } from '../models/model-ref.ts';
import type { ModelStatus } from '../models/model-status.ts';
import type { ModelStatusChange } from '../models/model-status-change.ts';
import type { Page } from './project-repository.ts';

export interface ModelListOptions {
  limit: number;
  /** A cursor from a previous page. */
  after?: string;
  /** Omit to list every project's models. */
  projectId?: string;
  kind?: string;
  /** Matches the provider of the version each model resolves to. */
  provider?: string;
  tag?: string;
  status?: ModelStatus;
}

/** Who made a change (recorded in alias history and events) and the trace it belongs to. */
export interface ChangeContext {
  actor: string;
  traceId?: string;
}

/**
 * The model registry. Names are unique per project; versions are immutable; aliases move atomically
 * and every move is recorded. Every change writes its `ensemble.models.lifecycle` event in the same
 * transaction. Unknown names throw `not_found`, taken names `conflict`.
 */
export interface ModelRepository {
  /** Ordered by project, then name; each model shown at the version its bare name resolves to. */
  list(options: ModelListOptions): Promise<Page<ModelDescriptor>>;
  /** The model at the version `ref` selects (`name`, `name@3`, `name:production`). */
  resolve(projectId: string, ref: string | ModelRef): Promise<ModelDescriptor>;
  /** Creates the model and its version 1 (and the given aliases on it). */
  register(model: RegisterModel, context: ChangeContext): Promise<ModelDescriptor>;
  /** Description, tags or status; a status change writes `models/model.status-changed`. */
  update(projectId: string, name: string, patch: UpdateModel, context: ChangeContext): Promise<ModelDescriptor>;
  setStatus(
    projectId: string,
    name: string,
    status: ModelStatus,
    context: ChangeContext & { reason?: string },
  ): Promise<ModelDescriptor>;
  /** Deletes the model, its versions, aliases and history. */
  purge(projectId: string, name: string, context: ChangeContext): Promise<void>;

  /** Newest first; `after` is a version number from a previous page. */
  listVersions(
    projectId: string,
    name: string,
    options: { limit: number; after?: number },
  ): Promise<Page<ModelVersion>>;
  getVersion(projectId: string, name: string, version: number): Promise<ModelVersion>;
  /** A new immutable version from the given fields over a base version (the newest by default). */
  createVersion(
    projectId: string,
    name: string,
    change: NewModelVersion,
    context: ChangeContext,
  ): Promise<ModelVersion>;

  listAliases(projectId: string, name: string): Promise<ModelAlias[]>;
  /**
   * Points `alias` at `version` in one atomic update, recorded in its history. With
   * `expectedVersion` (null: the alias must not exist yet) it is a compare-and-set: `conflict` when
   * the alias has moved meanwhile.
   */
  moveAlias(
    projectId: string,
    name: string,
    alias: string,
    version: number,
    context: ChangeContext & { expectedVersion?: number | null },
  ): Promise<ModelAlias>;
  /** Makes the aliases exactly `aliases` (alias → version), in one transaction. */
  replaceAliases(
    projectId: string,
    name: string,
    aliases: Record<string, number>,
    context: ChangeContext,
  ): Promise<ModelAlias[]>;
  deleteAlias(projectId: string, name: string, alias: string, context: ChangeContext): Promise<void>;
  /** Newest first. */
  aliasHistory(
    projectId: string,
    name: string,
    alias: string,
    options: { limit: number },
  ): Promise<AliasHistoryEntry[]>;
  /** The model's status changes (its health history), newest first. */
  statusHistory(projectId: string, name: string, options: { limit: number }): Promise<ModelStatusChange[]>;
}
