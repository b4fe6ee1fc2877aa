import type { ModelStatus } from './model-status.ts';

/**
 * Event types on `ensemble.models.lifecycle`, keyed by `projectId/name` so one model's events stay
 * in order. Written through the outbox in the transaction of the change.
 */
export const modelEventTypes = {
  registered: 'models/model.registered',
  updated: 'models/model.updated',
  statusChanged: 'models/model.status-changed',
  purged: 'models/model.purged',
  versionCreated: 'models/version.created',
  aliasMoved: 'models/alias.moved',
  aliasDeleted: 'models/alias.deleted',
} as const;

export type ModelEventType = (typeof modelEventTypes)[keyof typeof modelEventTypes];

export interface ModelRegisteredData {
  name: string;
  kind: string;
  provider: string;
  version: number;
  actor: string;
}

export interface ModelStatusChangedData {
  name: string;
  from: ModelStatus;
  to: ModelStatus;
  reason?: string;
  actor: string;
}

export interface ModelVersionCreatedData {
  name: string;
  version: number;
  provider: string;
  actor: string;
}

export interface AliasMovedData {
  name: string;
  alias: string;
  from: number | null;
  to: number | null;
  actor: string;
}

/** The bus key of a model's events. */
export function modelEventKey(projectId: string, name: string): string {
  return `${projectId}/${name}`;
}
