import type { AliasHistoryEntry, ModelAlias, ModelDescriptor, ModelStatusChange, ModelVersion } from '@ensemble/core';

export function versionJson<T extends ModelVersion>(version: T): Omit<T, 'createdAt'> & { createdAt: string } {
  return { ...version, createdAt: version.createdAt.toISOString() };
}

export function modelJson(model: ModelDescriptor) {
  return {
    ...versionJson(model),
    registeredAt: model.registeredAt.toISOString(),
    updatedAt: model.updatedAt.toISOString(),
  };
}

export function aliasJson(alias: ModelAlias) {
  return { ...alias, updatedAt: alias.updatedAt.toISOString() };
}

export function historyJson(entry: AliasHistoryEntry) {
  return { ...entry, at: entry.at.toISOString() };
}

export function statusChangeJson(change: ModelStatusChange) {
  return { ...change, at: change.at.toISOString() };
}
